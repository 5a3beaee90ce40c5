#!/bin/sh
# Intune custom compliance discovery script (Linux), with intune-compliance.json as its rules.
#
# Intune runs it as root and expects one line of JSON on stdout whose keys the rules file
# compares. It passes on the flat top-level fields of `codex-warden status --json` unchanged;
# the rules read `health`, the health contract's verdict (docs/fleet.md): the device is
# compliant when it is "healthy". `health_reasons` (stable codes, comma-separated) says why
# not, for the Intune report; the counts are there for the same reason.
#
# Needs python3 to pick the fields; prints a failing object when codex-warden is missing or
# says nothing, so such a device is never compliant. CODEX_WARDEN_BIN names another binary
# (tests).

BIN=${CODEX_WARDEN_BIN:-/usr/bin/codex-warden}
[ -x "$BIN" ] || BIN=/usr/local/bin/codex-warden

if [ ! -x "$BIN" ]; then
    echo '{"health":"not-installed","health_reasons":"not-installed","agent_running":false,"policy_state":"not-installed","homes_with_violations":-1,"violations_24h":-1,"last_scan_age_s":-1}'
    exit 0
fi

"$BIN" status --json 2>/dev/null | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)
except ValueError:
    s = {}
keys = ["health", "health_reasons", "agent_running", "policy_state", "mode", "revision",
        "homes", "homes_with_violations", "violations_24h", "quarantined_24h",
        "terminated_24h", "last_scan_age_s"]
out = {k: s.get(k) for k in keys}
if out["health"] is None:
    out["health"] = "unknown"
    out["health_reasons"] = "no-status"
out["agent_running"] = bool(out["agent_running"])
for k in ["policy_state", "mode", "revision", "health_reasons"]:
    out[k] = out[k] if out[k] is not None else ""
for k in ["homes", "homes_with_violations", "violations_24h", "quarantined_24h",
          "terminated_24h", "last_scan_age_s"]:
    out[k] = out[k] if out[k] is not None else -1
print(json.dumps(out, separators=(",", ":")))
'
