#!/bin/sh
# Remove codex-warden from a Mac (run as root, e.g. as a Jamf policy script).
#
#   uninstall.sh           stop the agent, delete the binary, daemon and docs; keep the policy
#                          (/etc/codex-warden), vault (/var/lib/codex-warden) and audit log
#                          (/var/log/codex-warden), so credentials stay restorable
#   uninstall.sh --purge   also delete those
#
# The MDM profile with the policy is removed in the MDM, not here.
set -e
LABELS="com.codex-warden.policy-reload com.codex-warden.agent"
[ "$(id -u)" = 0 ] || { echo "uninstall.sh: run as root" >&2; exit 2; }

for label in $LABELS; do
	if /bin/launchctl print "system/$label" >/dev/null 2>&1; then
		/bin/launchctl bootout "system/$label" || true
	fi
	rm -f "/Library/LaunchDaemons/$label.plist"
done
rm -f /usr/local/bin/codex-warden
rm -rf /usr/local/share/doc/codex-warden
/usr/sbin/pkgutil --forget com.codex-warden.pkg >/dev/null 2>&1 || true
if [ "${1:-}" = --purge ]; then
	rm -rf /etc/codex-warden /var/lib/codex-warden /var/log/codex-warden
fi
echo "codex-warden removed${1:+ ($1)}"
