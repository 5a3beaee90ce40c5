# codex-warden %postun ($1: 0 = erase, 1 = upgrade).
# RPM has no purge: the policy in /etc/codex-warden/policy.d, the vault and last good policy in
# /var/lib/codex-warden and the audit log in /var/log/codex-warden always stay (%post made those
# directories; the package does not own them). To delete them after `dnf remove codex-warden`:
#   rm -rf /etc/codex-warden /var/lib/codex-warden /var/log/codex-warden
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
	if [ "$1" -ge 1 ]; then
		# Upgrade: run the new binary (a stopped agent stays stopped).
		systemctl try-restart codex-warden.service >/dev/null 2>&1 || :
	fi
fi
exit 0
