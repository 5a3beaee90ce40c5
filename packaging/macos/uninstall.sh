#!/bin/sh
# Remove codex-warden from a Mac (run as root, e.g. as a Jamf policy script).
#
#   uninstall.sh           stop the agent, take its block out of Codex's /etc/codex/requirements.toml
#                          and managed_config.toml (what an admin wrote there stays), delete the
#                          binary, daemon and docs; keep the policy
#                          (/etc/codex-warden), vault (/var/lib/codex-warden) and audit log
#                          (/var/log/codex-warden), so credentials stay restorable
#   uninstall.sh --purge   also delete those
#
# The MDM profile with the policy is removed in the MDM, not here. --purge may come in any
# argument (Jamf passes its own values in $1 to $3 and the admin's parameters from $4).
set -e
purge=
for arg in "$@"; do [ "$arg" != --purge ] || purge=1; done
LABELS="com.codex-warden.policy-reload com.codex-warden.agent"
[ "$(id -u)" = 0 ] || { echo "uninstall.sh: run as root" >&2; exit 2; }

for label in $LABELS; do
	if /bin/launchctl print "system/$label" >/dev/null 2>&1; then
		/bin/launchctl bootout "system/$label" || true
	fi
	rm -f "/Library/LaunchDaemons/$label.plist"
done
# Once the agent is stopped (it would write the block back), or Codex keeps refusing logins on a
# policy nobody enforces any more.
if [ -x /usr/local/bin/codex-warden ]; then
	/usr/local/bin/codex-warden requirements remove || true
fi
rm -f /usr/local/bin/codex-warden
rm -rf /usr/local/share/doc/codex-warden
/usr/sbin/pkgutil --forget com.codex-warden.pkg >/dev/null 2>&1 || true
if [ -n "$purge" ]; then
	rm -rf /etc/codex-warden /var/lib/codex-warden /var/log/codex-warden
	echo "codex-warden removed, with its policy, vault and audit log"
else
	echo "codex-warden removed; kept /etc/codex-warden, /var/lib/codex-warden, /var/log/codex-warden"
fi
