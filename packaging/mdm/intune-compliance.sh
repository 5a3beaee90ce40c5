#!/bin/sh
# Intune custom compliance discovery script (Linux), with intune-compliance.json as its rules.
#
# Intune runs it as root and expects one line of JSON on stdout whose keys the rules file
# compares. It passes on the flat top-level fields of `codex-warden status --json` unchanged, so
# the rules read them directly: the device is compliant when the agent runs, the admin policy is
# active and no Codex home is in violation.
#
# Needs python3 to pick the fields; prints an all-failing object when codex-warden is
# missing, so a device without the agent is never compliant.

BIN=/usr/bin/codex-warden
[ -x "$BIN" ] || BIN=/usr/local/bin/codex-warden

if [ ! -x "$BIN" ]; then
    echo '{"agent_running":false,"policy_state":"not-installed","homes_with_violations":-1,"healthy":false,"last_scan_age_s":-1}'
    exit 0
fi

"$BIN" status --json 2>/dev/null | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)
except ValueError:
    s = {}
keys = ["healthy", "agent_running", "policy_state", "revision", "homes",
        "homes_with_violations", "violations_24h", "last_scan_age_s"]
out = {k: s.get(k) for k in keys}
out["healthy"] = bool(out["healthy"])
out["agent_running"] = bool(out["agent_running"])
out["policy_state"] = out["policy_state"] or "unknown"
out["homes_with_violations"] = out["homes_with_violations"] if out["homes_with_violations"] is not None else -1
out["last_scan_age_s"] = out["last_scan_age_s"] if out["last_scan_age_s"] is not None else -1
print(json.dumps(out, separators=(",", ":")))
'
