#!/usr/bin/env bash
# The Fleet/osquery side of the fleet view (docs/fleet.md), as far as it can be checked without
# osquery (osqueryi is not in Debian's archive, PyPI's `osquery` is only a client library, npm has
# none): the agent writes /var/lib/codex-warden/fleet.json (here: a scratch state dir), and
# packaging/mdm/fleet-policy.sql and fleet-report.sql run in SQLite (osquery's SQL engine) against
# replicas of the osquery tables they read, filled from this machine:
#   parse_json(path, fullkey, parent, key, value)  Fleet's fleetd table, from the agent's file
#   processes(pid, name, cmdline)                  from /proc (name: the Name: of /proc/PID/status)
#   time(unix_time)                                now
# Machines: healthy, with a violation, agent stopped, agent stuck (file not rewritten), never ran,
# unhealthy by the agent's own judgement. tests/health_contract.rs runs the same SQL (through
# fleet_sql.py) in every state of the health contract, next to the Jamf and Intune scripts.
# What is NOT checked: that osquery's and fleetd's real tables return exactly these rows.
#
# Usage: tests/packaging/fleet-query.sh [BINARY]   (default target/release/codex-warden)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/codex-warden}")
command -v python3 >/dev/null || { echo "SKIP fleet query: python3 is not installed"; exit 0; }
fail() { echo "FAIL: $*"; exit 1; }

T=$(mktemp -d)
agent=
cleanup() { [ -z "$agent" ] || { kill "$agent" 2>/dev/null; wait "$agent" 2>/dev/null; } || true; rm -rf "$T"; }
trap cleanup EXIT
chmod 755 "$T"
mkdir -m 755 "$T/policy.d" "$T/home" "$T/home/.codex"
cat > "$T/policy.d/10-corp.toml" <<TOML
[policy]
name = "fleet-test"
revision = "2026-11-26.1"
mode = "enforce"
[login]
allowed_methods = ["chatgpt"]
[scope]
passwd_users = false
homes = ["$T/home/.codex"]
TOML
chmod 644 "$T/policy.d/10-corp.toml"
export CODEX_WARDEN_POLICY_DIR="$T/policy.d" CODEX_WARDEN_STATE_DIR="$T/state" \
	CODEX_WARDEN_AUDIT_LOG="$T/log/audit.jsonl" CODEX_WARDEN_MANAGED_PREFS="$T/none.plist" \
	CODEX_WARDEN_CODEX_REQUIREMENTS="$T/codex/requirements.toml"
fleet="$T/state/fleet.json"

# The YAML policy carries fleet-policy.sql's query, without its comments.
python3 - <<'PY' || fail "fleet-policy.yml and fleet-policy.sql differ"
sql = [l for l in open("packaging/mdm/fleet-policy.sql").read().splitlines() if not l.startswith("--")]
yml = open("packaging/mdm/fleet-policy.yml").read().split("  query: |\n", 1)[1].splitlines()
assert [l[4:] for l in yml if l.strip()] == [l for l in sql if l.strip()], (yml, sql)
PY

# run_sql FILE EXPECT [FLEET_JSON_OVERRIDES]: run the query on the replicas (fleet_sql.py); EXPECT
# is "pass" (policy: a row), "fail" (policy: no row) or a reason prefix (report), or "none"
# (report: no row).
run_sql() {
	python3 tests/packaging/fleet_sql.py "$1" "$fleet" "${3:-}" | python3 -c '
import json, os, sys
query, expect = sys.argv[1:3]
rows = json.load(sys.stdin)
if expect == "pass":
    ok = len(rows) == 1
elif expect in ("fail", "none"):
    ok = rows == []
else:
    ok = len(rows) == 1 and rows[0][0].startswith(expect)
if not ok:
    sys.exit(f"{os.path.basename(query)}: expected {expect}, got {rows}")
print(f"   {os.path.basename(query)}: {expect}" + (f" ({rows[0][0]})" if rows and expect != "pass" else ""))
' "$1" "$2"
}
policy=packaging/mdm/fleet-policy.sql
report=packaging/mdm/fleet-report.sql

wait_for() { # wait_for PYTHON_CONDITION_ON_d
	for _ in $(seq 1 100); do
		if [ -f "$fleet" ] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$fleet" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "fleet.json never showed: $1"
}

echo "-- never ran: no fleet.json"
run_sql "$policy" fail
run_sql "$report" "no health in fleet.json"

echo "-- healthy"
"$bin" run > "$T/agent.log" 2>&1 &
agent=$!
wait_for "d['policy_state'] == 'active' and d['homes'] == 1"
[ "$(stat -c %a "$fleet")" = 644 ] || fail "fleet.json is not 0644"
grep -q "$T/home" "$fleet" && fail "fleet.json names a home"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert all(not isinstance(v,(dict,list)) for v in d.values()), d" "$fleet" ||
	fail "fleet.json is not flat"
run_sql "$policy" pass
run_sql "$report" none
echo "-- agent stuck: the file is an hour old"
run_sql "$policy" fail "{\"written_at_unix\": $(($(date +%s) - 3600))}"
run_sql "$report" "unhealthy: agent stuck" "{\"written_at_unix\": $(($(date +%s) - 3600))}"
echo "-- the agent judged itself unhealthy (e.g. no valid admin policy)"
run_sql "$policy" fail '{"health": "unhealthy", "health_reasons": "policy-last-good"}'
run_sql "$report" "unhealthy: policy-last-good" '{"health": "unhealthy", "health_reasons": "policy-last-good"}'
echo "-- a file from before the health contract"
run_sql "$policy" fail '{"health": null}'

echo "-- a violation"
printf '{"OPENAI_API_KEY":"sk-proj-fleettest"}' > "$T/home/.codex/auth.json"
wait_for "d['violations_24h'] >= 1 and d['health'] == 'needs-attention'"
grep -q "sk-proj" "$fleet" && fail "fleet.json holds a secret"
run_sql "$policy" fail
run_sql "$report" "needs-attention: violations-24h"

echo "-- agent stopped (the file stays behind)"
kill -TERM "$agent"
wait "$agent" || true
agent=
[ -f "$fleet" ] || fail "fleet.json gone"
run_sql "$policy" fail
run_sql "$report" "unhealthy: agent-not-running"
echo "fleet query: ok (policy and report SQL on SQLite replicas of parse_json/processes/time; osquery itself not run)"
