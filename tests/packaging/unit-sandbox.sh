#!/usr/bin/env bash
# Run the agent confined the way packaging/codex-warden.service confines it, as far as that can be
# done without systemd as PID 1 (containers, CI), and check that it still does its job:
#
# - capabilities: only the unit's CapabilityBoundingSet= (setpriv), with no_new_privs. The scenario
#   needs each of them: a home of another user (DAC_READ_SEARCH, DAC_OVERRIDE), a CODEX_HOME that
#   only another user's process names in /proc/PID/environ (SYS_PTRACE), a restore that gives the
#   credential back to its owner (CHOWN, FOWNER);
# - system calls: every call the agent makes (strace -f) must be allowed by the unit's
#   SystemCallFilter= lines, expanded by `systemd-analyze syscall-filter`.
#
# The mount sandbox (ProtectSystem=strict and ReadWritePaths=) is not reproduced here.
#
# Usage (root): tests/packaging/unit-sandbox.sh [BINARY]   (default target/release/codex-warden)
set -euo pipefail
cd "$(dirname "$0")/../.."
unit=packaging/codex-warden.service
bin=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/codex-warden}")

[ "$(id -u)" = 0 ] || { echo "unit-sandbox: run as root"; exit 2; }
for tool in setpriv strace systemd-analyze; do
	command -v "$tool" >/dev/null || { echo "SKIP unit sandbox: $tool is not installed"; exit 0; }
done
[ -x "$bin" ] || { echo "unit-sandbox: no binary at $bin (cargo build --release --locked)"; exit 2; }

# --- What the unit allows -------------------------------------------------------------------------
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr ' ' '\n' | grep . |
	sed 's/^CAP_//' | tr '[:upper:]' '[:lower:]' | sed 's/^/+/' | paste -sd, -)
[ -n "$caps" ] || { echo "FAIL: no CapabilityBoundingSet= in $unit"; exit 1; }

expand() { # a syscall group or name, recursively, one name per line
	case $1 in
	@*) systemd-analyze syscall-filter "$1" | sed -n '2,$p' | sed 's/^ *//; /^#/d; /^$/d' |
		while read -r n; do expand "$n"; done ;;
	*) echo "$1" ;;
	esac
}
T=$(mktemp -d /tmp/codex-warden-sandbox.XXXXXX)
sleeper=
cleanup() {
	[ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
# In order, as systemd applies them: the first line sets the list, a `~` line takes calls out of
# it, a later plain line adds calls back.
: > "$T/allowed"
while read -r line; do
	case $line in
	'~'*) for g in ${line#\~}; do expand "$g"; done | sort -u > "$T/deny"
		comm -23 "$T/allowed" "$T/deny" > "$T/next" ;;
	*) { cat "$T/allowed"; for g in $line; do expand "$g"; done; } | sort -u > "$T/next" ;;
	esac
	mv "$T/next" "$T/allowed"
done < <(sed -n 's/^SystemCallFilter=//p' "$unit")
for call in setresuid setresgid setgroups; do
	grep -qx "$call" "$T/allowed" || { echo "FAIL: the unit's filter refuses $call (reads as the user need it)"; exit 1; }
done
[ -s "$T/allowed" ] || { echo "FAIL: no SystemCallFilter= allow list in $unit"; exit 1; }

# --- A scratch machine: two homes of another user (nobody) with API-key logins ---------------------
export CODEX_WARDEN_POLICY_DIR=$T/policy.d CODEX_WARDEN_STATE_DIR=$T/state
export CODEX_WARDEN_AUDIT_LOG=$T/log/audit.jsonl CODEX_WARDEN_SETTLE_MS=100 CODEX_WARDEN_LOG=warn CODEX_WARDEN_CODEX_REQUIREMENTS=$T/etc-codex/requirements.toml
install -d -m 0755 "$T/policy.d"
cat > "$T/policy.d/10-sandbox.toml" <<TOML
[policy]
name = "unit-sandbox"
revision = "1"
mode = "enforce"
[login]
allowed_methods = ["chatgpt"]
[scope]
passwd_users = false
homes = ["$T/homes/*/.codex"]
TOML
chmod 0644 "$T/policy.d/10-sandbox.toml"
chmod 0755 "$T"
for home in "$T/homes/alice/.codex" "$T/relocated/.codex"; do
	install -d -o nobody -g nogroup -m 0700 "$(dirname "$home")" "$home"
	printf '{"auth_mode":"apikey","OPENAI_API_KEY":"sk-proj-SANDBOX%s"}\n' "$RANDOM" > "$home/auth.json"
	chown nobody:nogroup "$home/auth.json"; chmod 0600 "$home/auth.json"
done
# Only this process of another user knows the relocated home.
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env CODEX_HOME="$T/relocated/.codex" sleep 120 &
sleeper=$!

n=0
confined() { # confined OUT -- ARGS: the binary with the unit's capabilities, traced
	local out=$1; shift 2; n=$((n + 1))
	setpriv --bounding-set=-all,"$caps" --inh-caps=-all --no-new-privs \
		strace -f -qq -o "$T/trace.$n" "$bin" "$@" > "$out" 2>&1
}
fail() { echo "FAIL: $*"; for f in "$T"/*.out; do echo "--- $f"; cat "$f"; done; exit 1; }

echo "unit sandbox: capabilities $caps; $(wc -l < "$T/allowed") system calls allowed"
confined "$T/validate.out" -- policy validate || fail "policy validate"
rc=0; confined "$T/check.out" -- check || rc=$?
[ "$rc" = 1 ] || fail "check exit $rc, expected 1 (violations)"
grep -q "$T/homes/alice/.codex" "$T/check.out" || fail "check did not read the home of another user"
grep -q "$T/relocated/.codex" "$T/check.out" ||
	fail "check did not find the CODEX_HOME in another user's /proc/PID/environ"

# The agent itself: both credentials into the vault, SIGHUP, SIGTERM.
setpriv --bounding-set=-all,"$caps" --inh-caps=-all --no-new-privs \
	strace -f -qq -o "$T/trace.run" "$bin" run > "$T/run.out" 2>&1 &
tracer=$!
for _ in $(seq 1 100); do
	[ -e "$T/homes/alice/.codex/auth.json" ] || [ -e "$T/relocated/.codex/auth.json" ] || break
	sleep 0.1
done
# strace's child is the agent.
agent=$(pgrep -P "$tracer" -x codex-warden || true)
[ -n "$agent" ] || fail "the agent is not running"
kill -HUP "$agent"; sleep 0.5; kill -TERM "$agent"
wait "$tracer" || fail "the agent did not stop cleanly"
[ ! -e "$T/homes/alice/.codex/auth.json" ] && [ ! -e "$T/relocated/.codex/auth.json" ] ||
	fail "the agent did not quarantine both credentials"

confined "$T/list.out" -- restore --list || fail "restore --list"
[ "$(grep -c . "$T/list.out")" = 2 ] || fail "expected 2 vault entries"
id=$(grep "$T/homes/alice/.codex" "$T/list.out" | awk '{print $1}')
# --force: the policy still forbids the key (a restore that would not stick is refused).
confined "$T/restore.out" -- restore "$id" --force || fail "restore $id"
[ "$(stat -c %U "$T/homes/alice/.codex/auth.json")" = nobody ] ||
	fail "the restored credential is not its owner's again"
confined "$T/verify.out" -- audit verify || fail "audit verify"

# --- Every system call made is one the unit allows -------------------------------------------------
cat "$T"/trace.* | sed -E 's/^[0-9]+ +//' | grep -oE '^[a-z0-9_]+\(' | tr -d '(' | sort -u > "$T/used"
extra=$(comm -23 "$T/used" "$T/allowed")
if [ -n "$extra" ]; then
	echo "FAIL: system calls outside the unit's SystemCallFilter=: $extra"
	exit 1
fi
echo "unit sandbox: ok ($(wc -l < "$T/used") distinct system calls, all allowed; quarantine, restore and audit work with the unit's capabilities)"
