# codex-warden %post ($1: 1 = first install, 2 = upgrade).
#
# The agent's directories, root-owned. Made here rather than shipped in the package (see
# Cargo.toml), so `rpm -e` never removes them: the admin's policy, the vault and last good policy,
# and the audit log outlive the package. `install -d` also puts back owner and mode of a directory
# that already exists: the agent refuses a policy, state or audit dir that group or other can write.
install -d -o root -g root -m 0755 /etc/codex-warden /etc/codex-warden/policy.d
install -d -o root -g root -m 0711 /var/lib/codex-warden
install -d -o root -g root -m 0750 /var/log/codex-warden
# Codex's own config dir, where the agent renders requirements.toml: the unit can only make it
# writable to the agent if it exists. Codex's, so never deleted by this package.
[ -d /etc/codex ] || install -d -o root -g root -m 0755 /etc/codex

# A policy that an earlier install left (`rpm -e` keeps it; so may an uninstall by hand) is
# enforced as soon as the agent starts: say so on a first install.
if [ "$1" -eq 1 ]; then
	found=$(cd /etc/codex-warden/policy.d && find . -maxdepth 1 -name '*.toml' -type f | sed 's|^\./||' | sort | tr '\n' ' ')
	if [ -n "$found" ]; then
		echo "codex-warden: /etc/codex-warden/policy.d already holds a policy, left by an earlier install: ${found% }"
		echo "codex-warden: the agent enforces it from now on (\`codex-warden policy explain\` shows it); delete those files for a fresh start"
	fi
fi

# Without systemd as PID 1 (containers, image builds) the unit is only enabled, and systemd starts
# it on the next boot.
if [ "$1" -eq 1 ]; then
	if command -v systemctl >/dev/null 2>&1; then
		systemctl --no-reload enable codex-warden.service >/dev/null 2>&1 || :
	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null 2>&1 || :
		systemctl start codex-warden.service >/dev/null 2>&1 || :
	fi
fi
# Upgrades restart the agent in %postun, once the old package's files are gone.
exit 0
