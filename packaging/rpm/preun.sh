# codex-warden %preun ($1: 0 = erase, 1 = upgrade).
# Erase: stop and disable the agent. Upgrade: it keeps running; %postun restarts it.
if [ "$1" -eq 0 ]; then
	if [ -d /run/systemd/system ]; then
		systemctl --no-reload disable --now codex-warden.service >/dev/null 2>&1 || :
	elif command -v systemctl >/dev/null 2>&1; then
		systemctl --no-reload disable codex-warden.service >/dev/null 2>&1 || :
	fi
fi
exit 0
