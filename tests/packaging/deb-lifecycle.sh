#!/usr/bin/env bash
# The .deb through its whole life on this machine: build, contents and modes, install, enforce,
# upgrade, remove, purge. Checks that the vault, the last good policy, the audit chain and the
# admin's policy survive upgrade and remove, and that only purge deletes them.
#
# For disposable machines (CI): it installs and purges the codex-warden package as root. Paths the
# package uses that already exist (/etc/codex-warden, /var/lib/codex-warden,
# /var/log/codex-warden) are moved aside first and put back at the end. systemd need not run
# (containers): the maintainer scripts then only enable the unit, and the test starts the agent by
# hand.
#
# Usage (root): tests/packaging/deb-lifecycle.sh
#   Needs cargo-deb and a release build (cargo build --release --locked); makes two packages
#   from it into target/debian/lifecycle/ (revision 1 and 2).
set -euo pipefail
# After a pipe: `grep -c ... >/dev/null`, not `grep -q`, which exits at the first match, so the
# writer can die of SIGPIPE and pipefail fails the check.
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-target}
[ "$(id -u)" = 0 ] || { echo "deb-lifecycle: run as root"; exit 2; }
if dpkg-query -W -f '${Status}' codex-warden 2>/dev/null | grep -c installed >/dev/null; then
	echo "deb-lifecycle: the codex-warden package is installed here; this test would remove it"
	exit 2
fi

# The installed binary only: ~/.cargo/bin may have another codex-warden first in PATH.
cw=/usr/bin/codex-warden
unit=/lib/systemd/system/codex-warden.service
wants=/etc/systemd/system/multi-user.target.wants/codex-warden.service
policy=/etc/codex-warden/policy.d/50-lifecycle.toml
audit=/var/log/codex-warden/audit.jsonl
home=/srv/codex-warden-lifecycle/alice/.codex
# shellcheck source=tests/packaging/lib.sh
. tests/packaging/lib.sh

agent=
purge_archive=
cleanup() {
	rc=$?
	[ -z "$agent" ] || kill -TERM "$agent" 2>/dev/null || true
	[ -z "$purge_archive" ] || rm -f "$purge_archive"
	if dpkg-query -W codex-warden >/dev/null 2>&1; then dpkg -P codex-warden >/dev/null 2>&1 || true; fi
	rm -rf /srv/codex-warden-lifecycle
	put_back
	exit $rc
}
trap cleanup EXIT
set_aside

step() { echo "-- $*"; }
fail() {
	echo "FAIL: $*"
	[ ! -f /tmp/codex-warden-lifecycle-run.log ] || { echo "--- agent log"; cat /tmp/codex-warden-lifecycle-run.log; }
	exit 1
}
# mode_of PATH -> "owner group octal"
mode_of() { stat -c '%U %G %a' "$1"; }
expect_mode() { [ "$(mode_of "$1")" = "$2" ] || fail "$1 is $(mode_of "$1"), expected $2"; }
# shellcheck disable=SC2016 # conditions are eval'd in run_agent_until, single quotes on purpose
run_agent_until() { # run the installed agent until CONDITION (a shell test) holds, then SIGTERM
	(exec "$cw" run) > /tmp/codex-warden-lifecycle-run.log 2>&1 &
	agent=$!
	for _ in $(seq 1 100); do
		eval "$1" && break
		sleep 0.1
	done
	eval "$1" || fail "the agent did not get to: $1"
	kill -TERM "$agent"
	wait "$agent" || fail "the agent did not stop cleanly on SIGTERM"
	agent=
}

# --- Build ---------------------------------------------------------------------------------------
out=$target/debian/lifecycle
rm -rf "$out"; mkdir -p "$out"
step "cargo deb --no-build (revisions 1 and 2)"
# cargo-deb warns on stderr about what the package lacks (a license, …): none is acceptable.
cargo deb --no-build --deb-revision 1 -o "$out/" >/dev/null 2>"$out/cargo-deb.err"
cargo deb --no-build --deb-revision 2 -o "$out/" >/dev/null 2>>"$out/cargo-deb.err"
if grep -i warning "$out/cargo-deb.err"; then fail "cargo deb warned (above)"; fi
deb1=$(ls "$out"/codex-warden_*-1_*.deb)
deb2=$(ls "$out"/codex-warden_*-2_*.deb)

# --- Contents and modes --------------------------------------------------------------------------
step "contents of $(basename "$deb1")"
# "mode uid/gid path" of each entry (dpkg-deb prints numeric owners: 0/0 is root/root)
dpkg-deb -c "$deb1" | awk '{print $1, $2, $6}' > "$out/contents"
expect_entry() {
	grep -qxF -- "$1" "$out/contents" || { cat "$out/contents"; fail "package has no entry '$1'"; }
}
expect_entry "-rwxr-xr-x 0/0 ./usr/bin/codex-warden"
expect_entry "-rw-r--r-- 0/0 ./lib/systemd/system/codex-warden.service"
expect_entry "-rw-r--r-- 0/0 ./usr/share/doc/codex-warden/admin-guide.md"
expect_entry "-rw-r--r-- 0/0 ./usr/share/doc/codex-warden/deploy-linux.md"
expect_entry "-rw-r--r-- 0/0 ./usr/share/doc/codex-warden/reference/policy.md"
expect_entry "-rw-r--r-- 0/0 ./usr/share/man/man1/codex-warden.1.gz"
expect_entry "-rw-r--r-- 0/0 ./usr/share/man/man1/codex-warden-status.1.gz"
expect_entry "-rw-r--r-- 0/0 ./usr/share/bash-completion/completions/codex-warden"
expect_entry "-rw-r--r-- 0/0 ./usr/share/zsh/vendor-completions/_codex-warden"
expect_entry "-rw-r--r-- 0/0 ./usr/share/man/man5/codex-warden-policy.5.gz"
expect_entry "-rw-r--r-- 0/0 ./usr/share/doc/codex-warden/copyright"
dpkg-deb --fsys-tarfile "$deb1" | tar -xO ./usr/share/doc/codex-warden/copyright | grep -c 'Apache-2.0' >/dev/null ||
	fail "the copyright file names no license"
for p in policies/*.toml; do
	expect_entry "-rw-r--r-- 0/0 ./usr/share/doc/codex-warden/examples/$(basename "$p")"
	# The example's `#:schema` line names a file the package installs.
	schema=$(sed -n '1s/^#:schema //p' "$p")
	[ -n "$schema" ] || fail "$p has no #:schema line"
	expect_entry "-rw-r--r-- 0/0 .$schema"
done
# The MDM health checks (docs/fleet.md), scripts executable.
for f in packaging/mdm/*; do
	case $f in
	*.sh) expect_entry "-rwxr-xr-x 0/0 ./usr/share/codex-warden/mdm/$(basename "$f")" ;;
	*) expect_entry "-rw-r--r-- 0/0 ./usr/share/codex-warden/mdm/$(basename "$f")" ;;
	esac
done
# Nothing under /etc: the policy is the admin's, never a conffile the package could replace.
if grep -q ' \./etc/' "$out/contents"; then fail "the package ships files under /etc"; fi
# Nothing writable by group or other, nothing setuid.
if awk '$1 ~ /^.....w|^........w|s/' "$out/contents" | grep -c . >/dev/null; then
	fail "group/other-writable or setuid entries: $(awk '$1 ~ /^.....w|^........w|s/' "$out/contents")"
fi
dpkg-deb -I "$deb1" > "$out/info"
for s in postinst prerm postrm; do grep -qw "$s" "$out/info" || fail "no $s maintainer script"; done
if dpkg-deb --ctrl-tarfile "$deb1" | tar -t | grep -c conffiles >/dev/null; then fail "the package has conffiles"; fi

# --- Install -------------------------------------------------------------------------------------
step "dpkg -i $(basename "$deb1")"
dpkg -i "$deb1" > "$out/install.txt"
# A fresh install with an empty policy.d has no earlier policy to tell about.
if grep -c 'already holds a policy' "$out/install.txt" >/dev/null; then
	cat "$out/install.txt"; fail "a fresh install reported an earlier policy"
fi
expect_mode /usr/bin/codex-warden "root root 755"
expect_mode "$unit" "root root 644"
expect_mode /etc/codex-warden/policy.d "root root 755"
expect_mode /var/lib/codex-warden "root root 711"
expect_mode /var/log/codex-warden "root root 750"
[ -d /etc/codex ] || fail "postinst did not make /etc/codex (the unit's ReadWritePaths needs it)"
[ -L "$wants" ] || fail "the unit is not enabled ($wants missing)"
"$cw" --version
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
fi
# With systemd as PID 1 (a VM), postinst started the agent in its sandbox: check it runs, then
# stop it, so that only the agent this test starts by hand touches the scratch home.
systemd_unit_ran() {
	if [ -d /run/systemd/system ]; then
		sleep 1
		systemctl is-active --quiet codex-warden.service ||
			{ journalctl -u codex-warden --no-pager | tail -20; fail "the unit is not running after $1"; }
		echo "   systemd: the unit runs after $1"
		systemctl stop codex-warden.service
	fi
}
systemd_unit_ran install

step "enforce policy, a home with a forbidden API-key login"
cat > "$policy" <<'TOML'
[policy]
name = "deb-lifecycle"
revision = "1"
mode = "enforce"

[login]
allowed_methods = ["chatgpt"]

[enforce]
quarantine = true

[scope]
passwd_users = false
homes = ["/srv/codex-warden-lifecycle/*/.codex"]
TOML
chmod 0644 "$policy"
"$cw" policy validate || fail "policy validate"
install -d -o nobody -g nogroup -m 0700 "$(dirname "$home")" "$home"
printf '{"auth_mode":"apikey","OPENAI_API_KEY":"sk-proj-LIFECYCLE%s"}\n' "$RANDOM" > "$home/auth.json"
chown nobody:nogroup "$home/auth.json"; chmod 0600 "$home/auth.json"

rc=0; "$cw" check > "$out/check.txt" || rc=$?
[ "$rc" = 1 ] || { cat "$out/check.txt"; fail "check exit $rc, expected 1 (a violation)"; }
[ -e "$home/auth.json" ] || fail "check without --enforce moved the credential"

step "codex-warden run: quarantine and audit"
# shellcheck disable=SC2016
run_agent_until '[ ! -e "$home/auth.json" ] && [ -s /var/lib/codex-warden/status.json ]'
"$cw" restore --list > "$out/vault1"
grep -q "$home" "$out/vault1" || { cat "$out/vault1"; fail "no vault entry for $home"; }
vault_id=$(awk -v h="$home" '$0 ~ h {print $1; exit}' "$out/vault1")
grep -q '"event":"quarantined"' "$audit" || fail "no quarantined record in $audit"
"$cw" audit verify || fail "audit verify"
last_good=$(sha256sum /var/lib/codex-warden/last-good-policy.json)
cp "$audit" "$out/audit-before-upgrade.jsonl"
policy_sum=$(sha256sum "$policy")
echo "   vault entry $vault_id"

# --- Upgrade -------------------------------------------------------------------------------------
step "dpkg -i $(basename "$deb2") (upgrade)"
dpkg -i "$deb2" > "$out/upgrade.txt"
# The admin's own running policy is no news on an upgrade.
if grep -c 'already holds a policy' "$out/upgrade.txt" >/dev/null; then
	cat "$out/upgrade.txt"; fail "the upgrade reported the running policy as an earlier one"
fi
[ "$(dpkg-query -W -f '${Version}' codex-warden)" = "$(dpkg-deb -f "$deb2" Version)" ] ||
	fail "the upgrade did not install $(basename "$deb2")"
[ "$(sha256sum "$policy")" = "$policy_sum" ] || fail "the upgrade changed the admin's policy"
# Append-only: every record from before the upgrade is still there, unchanged. (With systemd
# running, postinst restarted the agent, which appended its own records.)
cmp -s -n "$(stat -c %s "$out/audit-before-upgrade.jsonl")" "$out/audit-before-upgrade.jsonl" "$audit" ||
	fail "the upgrade changed the audit log"
grep -q deb-lifecycle /var/lib/codex-warden/last-good-policy.json || fail "the upgrade lost the last good policy"
if [ ! -d /run/systemd/system ]; then
	[ "$(sha256sum /var/lib/codex-warden/last-good-policy.json)" = "$last_good" ] ||
		fail "the upgrade changed the last good policy"
fi
"$cw" restore --list | grep -c "^$vault_id" >/dev/null || fail "vault entry $vault_id lost on upgrade"
"$cw" audit verify || fail "audit chain broken by the upgrade"
expect_mode /var/lib/codex-warden "root root 711"
expect_mode /var/log/codex-warden "root root 750"
[ -L "$wants" ] || fail "the upgrade disabled the unit"
systemd_unit_ran upgrade

step "the upgraded agent continues the audit chain"
records=$(wc -l < "$audit")
# shellcheck disable=SC2034 # used in the eval'd condition below
started=$(grep -c agent_started "$audit")
# shellcheck disable=SC2016
run_agent_until '[ "$(grep -c agent_started "$audit")" -gt "$started" ] && [ -s /var/lib/codex-warden/status.json ]'
[ "$(wc -l < "$audit")" -gt "$records" ] || fail "the upgraded agent wrote no records"
"$cw" audit verify || fail "audit chain broken after the upgrade"
"$cw" restore --list | grep -c "^$vault_id" >/dev/null || fail "vault entry $vault_id lost"

# --- Remove --------------------------------------------------------------------------------------
step "dpkg -r codex-warden"
dpkg -r codex-warden >/dev/null
[ ! -e "$cw" ] || fail "dpkg -r left $cw"
[ ! -e "$unit" ] || fail "dpkg -r left $unit"
dpkg-query -W -f '${Status}' codex-warden | grep -c config-files >/dev/null || fail "not in config-files state"
[ "$(sha256sum "$policy")" = "$policy_sum" ] || fail "dpkg -r changed the admin's policy"
[ -s /var/lib/codex-warden/last-good-policy.json ] || fail "dpkg -r deleted the last good policy"
[ -s "$audit" ] || fail "dpkg -r deleted the audit log"
# The package's binary is gone: check the vault and the chain with the one it was built from.
"$target/release/codex-warden" restore --list | grep -c "^$vault_id" >/dev/null || fail "dpkg -r lost $vault_id"
"$target/release/codex-warden" audit verify || fail "audit chain broken by dpkg -r"

step "dpkg -i after remove: the kept policy is announced"
dpkg -i "$deb2" > "$out/reinstall.txt"
grep -c "already holds a policy, left by an earlier install: $(basename "$policy")" "$out/reinstall.txt" >/dev/null ||
	{ cat "$out/reinstall.txt"; fail "a reinstall did not say that it found the kept policy"; }
systemd_unit_ran reinstall
dpkg -r codex-warden >/dev/null

# --- Purge ---------------------------------------------------------------------------------------
step "dpkg -P codex-warden: archived, then deleted, and said"
ls /var/backups/codex-warden-purge-*.tar.gz > "$out/archives-before" 2>/dev/null || true
dpkg -P codex-warden > "$out/purge.txt"
cat "$out/purge.txt"
archive=$(comm -13 "$out/archives-before" <(ls /var/backups/codex-warden-purge-*.tar.gz 2>/dev/null) | head -1)
[ -n "$archive" ] || fail "dpkg -P left no archive in /var/backups"
purge_archive=$archive
grep -c "deleted /etc/codex-warden (policy), /var/lib/codex-warden (vault: 1 quarantined" "$out/purge.txt" >/dev/null ||
	fail "dpkg -P did not say what it deleted"
grep -c "a copy of all three is in $archive" "$out/purge.txt" >/dev/null || fail "dpkg -P did not name its archive"
expect_mode "$archive" "root root 600"
# The archive is a usable copy: the chain verifies and the vault entry is listed from it.
mkdir "$out/archive"
tar -C "$out/archive" -xzf "$archive"
[ -s "$out/archive/etc/codex-warden/policy.d/$(basename "$policy")" ] || fail "the archive has no policy"
"$target/release/codex-warden" --state-dir "$out/archive/var/lib/codex-warden" \
	--audit-log "$out/archive/var/log/codex-warden/audit.jsonl" audit verify || fail "the archived audit chain does not verify"
"$target/release/codex-warden" --state-dir "$out/archive/var/lib/codex-warden" --policy-dir "$out/archive/etc/codex-warden/policy.d" \
	restore --list | grep -c "^$vault_id" >/dev/null || fail "the archive lost vault entry $vault_id"
rm -rf "$out/archive"
if dpkg-query -W codex-warden >/dev/null 2>&1; then fail "still known to dpkg after purge"; fi
# /etc/codex is Codex's own directory (the agent wrote requirements.toml there): purge leaves it.
for p in /etc/codex-warden /var/lib/codex-warden /var/log/codex-warden; do
	[ ! -e "$p" ] || fail "dpkg -P left $p"
done
[ ! -e "$wants" ] || fail "dpkg -P left $wants"
[ ! -e /etc/systemd/system/codex-warden.service ] || fail "dpkg -P left a mask of the unit"

echo "deb lifecycle: ok (install, enforce, upgrade, remove, reinstall, purge with its archive)"
