#!/bin/sh
# Jamf Pro extension attribute: "codex-warden health".
#
# Add it under Settings > Computer management > Extension attributes (data type String, input
# type Script). It prints one <result> Jamf stores per computer, for smart groups such as
# "codex-warden unhealthy" (result like "unhealthy*") or "Codex needs attention" (like
# "needs-attention*"):
#
#   healthy (revision R, last scan N s ago)
#   needs-attention: REASONS (…)   violations, quarantines or stopped sessions in the last 24 h
#   unhealthy: REASONS (…)         agent down, no valid policy, a policy weaker than its base,
#                                  watching degraded, state dir full or read-only
#   not installed
#
# REASONS are the stable codes of the health contract (docs/fleet.md), comma-separated, as
# `codex-warden status --json` gives them in `health_reasons`. This script decides nothing
# itself: it passes on `health` and `health_reasons` (plutil ships with macOS, so no jq is
# needed). CODEX_WARDEN_BIN names another binary (tests).

BIN=${CODEX_WARDEN_BIN:-/usr/local/bin/codex-warden}
if [ ! -x "$BIN" ]; then
    echo "<result>not installed</result>"
    exit 0
fi

JSON=$("$BIN" status --json 2>/dev/null)
CODE=$?
field() {
    printf '%s' "$JSON" | plutil -extract "$1" raw -o - - 2>/dev/null
}

HEALTH=$(field health)
case "$HEALTH" in
    healthy) RESULT="healthy" ;;
    needs-attention | unhealthy) RESULT="$HEALTH: $(field health_reasons)" ;;
    *) RESULT="unhealthy: codex-warden status exited $CODE with no health" ;;
esac
echo "<result>$RESULT (revision $(field revision), last scan $(field last_scan_age_s) s ago)</result>"
