#!/bin/sh
# Smoke-test an installed codex-warden on a Mac: start, violate, status, stop.
#
#   sudo packaging/macos/smoke-test.sh USER
#
# USER is a regular account (uid >= 501) whose files the test may touch: it only writes in
# /Users/USER/.codex-smoke (never ~/.codex). It installs a drop-in policy for that home
# (/etc/codex-warden/policy.d/99-smoke.toml: enforce, ChatGPT logins only) and removes it at the
# end; a configuration profile's managed preferences outrank drop-ins, so run it on a Mac whose
# profile does not allow API keys, or none. What it checks:
#   1. start:   launchd runs the agent; `status` answers.
#   2. violate: an API-key auth.json in the smoke home is quarantined (a `quarantined` record);
#               if `codex` is on USER's PATH, a session with CODEX_API_KEY in its environment is
#               stopped (a `terminated` record), and the time from its start to the record is
#               printed: the new-session latency on this Mac (design: at most 100 ms poll + the
#               look at the process; docs/deploy-macos.md).
#   3. status:  `codex-warden status --json` is healthy (an admin policy, the agent running) and
#               counts the violations of the last 24 hours; USER can read their own status.
#   4. stop:    `launchctl bootout` stops it; `agent_stopped` is the last record; then it is
#               started again, as it was.
# Exit 0 when every step passed; the first failure is printed and exits 1.
set -eu

user=${1:?usage: sudo smoke-test.sh USER}
[ "$(id -u)" = 0 ] || { echo "run as root (sudo)" >&2; exit 2; }
uid=$(id -u "$user") || { echo "no such user: $user" >&2; exit 2; }
[ "$uid" -ge 501 ] || { echo "$user (uid $uid) is not a regular account" >&2; exit 2; }

label=com.codex-warden.agent
plist=/Library/LaunchDaemons/$label.plist
bin=/usr/local/bin/codex-warden
home=$(dscl . -read "/Users/$user" NFSHomeDirectory | awk '{print $2}')
smoke=$home/.codex-smoke
dropin=/etc/codex-warden/policy.d/99-smoke.toml
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
cleanup() {
  rm -f "$dropin"
  [ -n "${session:-}" ] && kill "$session" 2>/dev/null || true
  rm -rf "$smoke"
  launchctl kill HUP "system/$label" 2>/dev/null || true
}
trap cleanup EXIT

# Wait up to $1 tenths of a second for `codex-warden audit` to show event $2 about USER since
# the start.
wait_event() {
  n=0
  while [ "$n" -lt "$1" ]; do
    if "$bin" audit --since "$started" --event "$2" --user "$user" --format json | grep -q .; then
      return 0
    fi
    sleep 0.1
    n=$((n + 1))
  done
  return 1
}

echo "== 1. start"
launchctl print "system/$label" >/dev/null 2>&1 || launchctl bootstrap system "$plist"
launchctl kickstart "system/$label"
sleep 2
launchctl print "system/$label" | grep -q "state = running" || fail "launchd does not run $label"
"$bin" status --json | grep -q '"agent_running": true' || fail "status does not see the agent running"
pass "the agent runs (pid $(launchctl print "system/$label" | awk '/pid =/ {print $3; exit}'))"

echo "== 2. violate"
install -d -o root -g wheel -m 0755 /etc/codex-warden/policy.d
cat > "$dropin" <<TOML
[policy]
name = "smoke-test"
revision = "smoke-$started"
mode = "enforce"

[login]
allowed_methods = ["chatgpt"]

[enforce]
quarantine = true
terminate = true
terminate_grace = "2s"

[scope]
min_uid = 501
homes = ["$smoke"]
TOML
chmod 0644 "$dropin"
rm -rf "$smoke"
sudo -u "$user" mkdir -m 0700 "$smoke"
launchctl kill HUP "system/$label"
sleep 2
"$bin" policy explain | grep -q "smoke-$started" || fail "the agent did not load $dropin (a profile outranks it?)"
pass "policy smoke-$started loaded"

sudo -u "$user" sh -c "umask 077; printf '%s' '{\"auth_mode\":\"apikey\",\"OPENAI_API_KEY\":\"sk-proj-smoketest\"}' > '$smoke/auth.json'"
wait_event 100 quarantined || fail "no quarantined record for $smoke/auth.json within 10 s"
[ ! -e "$smoke/auth.json" ] || fail "$smoke/auth.json is still there"
pass "the API-key auth.json was quarantined"

codex=$(sudo -u "$user" -i sh -c 'command -v codex' 2>/dev/null || true)
if [ -n "$codex" ]; then
  t0=$(perl -MTime::HiRes=time -e 'printf "%.3f", time')
  # app-server stays up while its stdin is open.
  (sleep 60 | sudo -u "$user" env CODEX_HOME="$smoke" CODEX_API_KEY=sk-proj-smoketest \
    "$codex" app-server >/dev/null 2>&1) &
  session=$!
  wait_event 150 terminated || fail "the Codex session with CODEX_API_KEY was not stopped within 15 s"
  t1=$(perl -MTime::HiRes=time -e 'printf "%.3f", time')
  pass "the session was stopped; start to record: $(echo "$t1 - $t0" | bc) s"
else
  echo "skip: no codex on $user's PATH (npm install -g @openai/codex) for the session check"
fi

echo "== 3. status"
"$bin" status || true
json=$("$bin" status --json || true)
echo "$json" | grep -q '"healthy": true' || fail "status --json is not healthy: $json"
echo "$json" | grep -Eq '"violations_24h": [1-9]' || fail "status --json counts no violation: $json"
pass "status is healthy and counts the violations"
rc=0
sudo -u "$user" "$bin" status >/tmp/codex-warden-smoke-user.txt 2>&1 || rc=$?
[ "$rc" -le 1 ] || fail "status as $user exited $rc: $(cat /tmp/codex-warden-smoke-user.txt)"
pass "$user reads their own status through the 0711 state dir"

echo "== 4. stop"
launchctl bootout "system/$label"
sleep 1
launchctl print "system/$label" >/dev/null 2>&1 && fail "$label still loaded after bootout"
"$bin" audit --since "$started" --format json | tail -1 | grep -q '"agent_stopped"' \
  || fail "the last record is not agent_stopped"
pass "the agent stopped cleanly"
launchctl bootstrap system "$plist"
pass "started again"
"$bin" audit verify >/dev/null || fail "audit verify: the chain is broken"
echo "PASS (the quarantined credential stays in the vault: codex-warden restore can bring it back)"
