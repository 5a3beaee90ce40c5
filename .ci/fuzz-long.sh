#!/usr/bin/env bash
# The long fuzzing run (not part of CI): each target for FUZZ_RUNS executions (default 10
# million), one libFuzzer process (a single job) per target, one target after another. Starts
# from the committed seeds and from what earlier long runs grew (fuzz/target/long-corpus/TARGET,
# kept between runs). Prints one line of figures per target; logs in fuzz/target/long-logs/.
# Exits 1 if any target failed (its input is under fuzz/artifacts/TARGET/). See docs/fuzzing.md.
#
#   FUZZ_RUNS      executions per target (default 10000000)
#   FUZZ_TARGETS   space-separated targets (default: all of `cargo fuzz list`)
#   FUZZ_TOOLCHAIN "nightly" or "stable" (default: nightly if installed, else stable with
#                  RUSTC_BOOTSTRAP=1)
#   FUZZ_FEATURES  cargo features of the fuzz crate, e.g. "pending-fixes"
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
runs=${FUZZ_RUNS:-10000000}

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
toolchain=${FUZZ_TOOLCHAIN:-}
if [ -z "$toolchain" ]; then
  if rustup run nightly rustc --version >/dev/null 2>&1; then toolchain=nightly; else toolchain=stable; fi
fi
[ "$toolchain" = nightly ] || export RUSTC_BOOTSTRAP=1

# The same build as .ci/fuzz-smoke.sh, so one build serves both.
build_flags=(--sanitizer none --codegen-units 16)
if [ -n "${FUZZ_FEATURES:-}" ]; then build_flags+=(--features "$FUZZ_FEATURES"); fi
cd fuzz
cargo "+$toolchain" fuzz build "${build_flags[@]}"

targets=${FUZZ_TARGETS:-$(cargo "+$toolchain" fuzz list)}
tmp=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm
scratch=$(mktemp -d "$tmp/codex-warden-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p target/long-logs
failed=()
for target in $targets; do
  mkdir -p "target/long-corpus/$target" "corpus/$target"
  log="target/long-logs/$target.log"
  start=$(date +%s)
  status=0
  TMPDIR=$scratch cargo "+$toolchain" fuzz run "${build_flags[@]}" "$target" \
    "target/long-corpus/$target" "corpus/$target" -- \
    -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
  seconds=$(($(date +%s) - start))
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  per_sec=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  last=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/cov \1, features \2, corpus \3/p' <<<"$last")
  echo "$target: ${executed:-?} runs in ${seconds}s (${per_sec:-?} exec/s), ${cov:-?}, exit $status"
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    grep -E -A12 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -40
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz long run: FAILED: ${failed[*]}"
  exit 1
fi
