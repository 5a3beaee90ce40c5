#!/usr/bin/env bash
# The systemd unit's exposure score, as `systemd-analyze security` rates it, must stay <= 4.0.
#
# Offline analysis of the unit file (systemd >= 252): no running systemd needed, so it works in
# containers and CI. Skips, saying why, where systemd-analyze or its --offline mode is missing.
#
# Usage: tests/packaging/unit-security.sh [UNIT_FILE]   (default packaging/codex-warden.service)
set -euo pipefail
cd "$(dirname "$0")/../.."
unit=${1:-packaging/codex-warden.service}
max=4.0

if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP unit security score: systemd-analyze is not installed (apt-get install systemd)"
	exit 0
fi
if ! systemd-analyze security --help 2>&1 | grep -c -- '--offline' >/dev/null; then
	echo "SKIP unit security score: $(systemd-analyze --version | head -1) has no 'security --offline' (needs systemd >= 252)"
	exit 0
fi

# The table goes to stdout; the last line is "→ Overall exposure level for NAME: 3.0 OK".
out=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1) || {
	echo "$out"
	echo "FAIL: systemd-analyze security could not rate $unit"
	exit 1
}
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { echo "$out"; echo "FAIL: no exposure level in the output above"; exit 1; }
echo "unit security: $unit scores $score (max $max): systemd-analyze security --offline=yes $unit"
if awk -v s="$score" -v m="$max" 'BEGIN { exit !(s > m) }'; then
	# Show what is exposed, to see which line of the unit changed the score.
	printf '%s\n' "$out" | grep '✗' || true
	echo "FAIL: exposure $score is above $max"
	exit 1
fi
