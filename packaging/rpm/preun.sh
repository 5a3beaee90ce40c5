# codex-warden %preun ($1: 0 = erase, 1 = upgrade).
# Erase: stop and disable the agent, then take its block out of Codex's
# /etc/codex/requirements.toml and managed_config.toml (keys an admin wrote there stay, a file left
# empty is deleted), so that Codex does not keep refusing logins once the agent is gone.
# Upgrade: it keeps running, the block stays; %postun restarts it.
if [ "$1" -eq 0 ]; then
	if [ -d /run/systemd/system ]; then
		systemctl --no-reload disable --now codex-warden.service >/dev/null 2>&1 || :
	elif command -v systemctl >/dev/null 2>&1; then
		systemctl --no-reload disable codex-warden.service >/dev/null 2>&1 || :
	fi
	/usr/bin/codex-warden requirements remove || :
fi
exit 0
