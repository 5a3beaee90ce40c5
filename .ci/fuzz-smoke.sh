#!/usr/bin/env bash
# CI: build every cargo-fuzz target of fuzz/ and run each one briefly from its committed seed
# corpus. Any panic, broken invariant or sanitizer report fails the run (exit 1), and the input
# that did it is left under fuzz/artifacts/TARGET/. See docs/fuzzing.md.
#
# Works without a nightly toolchain: cargo-fuzz needs unstable rustc flags (-Zsanitizer, …),
# which stable rustc accepts with RUSTC_BOOTSTRAP=1.
#
#   FUZZ_SECONDS   seconds per target (default 20)
#   FUZZ_TARGETS   space-separated targets (default: all of `cargo fuzz list`)
#   FUZZ_TOOLCHAIN "nightly" or "stable" (default: nightly if installed, else stable)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
seconds=${FUZZ_SECONDS:-20}

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

toolchain=${FUZZ_TOOLCHAIN:-}
if [ -z "$toolchain" ]; then
  if rustup run nightly rustc --version >/dev/null 2>&1; then toolchain=nightly; else toolchain=stable; fi
fi
if [ "$toolchain" != nightly ]; then
  export RUSTC_BOOTSTRAP=1
fi
echo "== cargo fuzz on $(rustup run "$toolchain" rustc --version)${RUSTC_BOOTSTRAP:+ (RUSTC_BOOTSTRAP=1)}"

# Safe Rust: the sanitizer would only slow the build and the run. 16 codegen units: the build
# (all of codex-warden's dependencies, instrumented) is most of the time on a small CI machine.
build_flags=(--sanitizer none --codegen-units 16)
cd fuzz
cargo "+$toolchain" fuzz build "${build_flags[@]}"

targets=${FUZZ_TARGETS:-$(cargo "+$toolchain" fuzz list)}
# New inputs go to a scratch corpus; the committed seeds are only read.
work=target/smoke-corpus
rm -rf "$work"
# policy_file rewrites a scratch file for every input: keep it in memory where possible.
tmp=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm
scratch=$(mktemp -d "$tmp/codex-warden-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
failed=()
for target in $targets; do
  echo "== $target (${seconds}s)"
  mkdir -p "$work/$target" "corpus/$target"
  status=0
  TMPDIR=$scratch cargo "+$toolchain" fuzz run "${build_flags[@]}" "$target" \
    "$work/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$scratch/$target.log" 2>&1 || status=$?
  grep -E '^(INFO: seed corpus|#[0-9]+ +INITED|Done [0-9]+ runs|stat::(number_of_executed_units|average_exec_per_sec|new_units_added))' \
    "$scratch/$target.log" || true
  if [ "$status" -ne 0 ]; then
    echo "!! $target failed (exit $status); its input is under fuzz/artifacts/$target/"
    tail -60 "$scratch/$target.log"
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz smoke: every target ran ${seconds}s without a failure"
