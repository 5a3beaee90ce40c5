#!/bin/sh
# Jamf Pro extension attribute: "codex-warden health".
#
# Add it under Settings > Computer management > Extension attributes (data type String, input
# type Script). It prints one <result> Jamf stores per computer, for smart groups such as
# "codex-warden unhealthy" (result like "unhealthy*") or "Codex violations" (like "violations*").
#
#   healthy                      agent running, admin policy active, every home compliant
#   violations N homes           healthy, N Codex homes in violation
#   unhealthy: REASON            agent down, no valid policy (rejected/last-good/none), watch degraded
#   not installed
#
# Reads the flat top-level fields of `codex-warden status --json` (plutil ships with macOS, so no
# jq is needed); the exit code of `status` alone also tells 0/1/2 apart.

BIN=/usr/local/bin/codex-warden
if [ ! -x "$BIN" ]; then
    echo "<result>not installed</result>"
    exit 0
fi

JSON=$("$BIN" status --json 2>/dev/null)
CODE=$?
field() {
    printf '%s' "$JSON" | /usr/bin/plutil -extract "$1" raw -o - - 2>/dev/null
}

case "$CODE" in
    0) RESULT="healthy" ;;
    1) RESULT="violations $(field homes_with_violations) homes" ;;
    2) RESULT="unhealthy: agent_running=$(field agent_running) policy_state=$(field policy_state) $(field problems.0)" ;;
    *) RESULT="unhealthy: codex-warden status exited $CODE" ;;
esac
echo "<result>$RESULT (revision $(field revision), last scan $(field last_scan_age_s) s ago)</result>"
