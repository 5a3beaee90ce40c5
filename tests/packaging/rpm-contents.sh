#!/usr/bin/env bash
# The .rpm's contents, modes and scriptlets (rpm -qlpv, rpm -qp --scripts), built with
# cargo-generate-rpm from the release build. Then, as root, the scriptlets for real: install,
# upgrade to release 2 and erase with rpm itself, in a private rpm database (--nodeps: this is not
# an RPM distribution), and check that the directories are made with their modes and that erase
# keeps the policy, vault and audit log. Paths in use are set aside and put back (lib.sh).
#
# Usage: tests/packaging/rpm-contents.sh    (needs rpm, cargo-generate-rpm, a release build)
set -euo pipefail
# After a pipe: `grep -c ... >/dev/null`, not `grep -q`, which exits at the first match, so the
# writer can die of SIGPIPE and pipefail fails the check.
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-target}
command -v rpm >/dev/null || { echo "rpm-contents: rpm is not installed (apt-get install rpm)"; exit 2; }

out=$target/generate-rpm
rm -f "$out"/codex-warden-*.rpm
# The RPM License tag is Cargo.toml's package.license (checked below).
cargo generate-rpm
pkg=$(ls "$out"/codex-warden-*.rpm)
echo "-- $(basename "$pkg")"
fail() { echo "FAIL: $*"; exit 1; }

# "mode owner group path" of each file
rpm -qlpv "$pkg" | awk '{print $1, $3, $4, $NF}' > "$out/contents"
expect_entry() {
	grep -qxF -- "$1" "$out/contents" || { cat "$out/contents"; fail "package has no entry '$1'"; }
}
expect_entry "-rwxr-xr-x root root /usr/bin/codex-warden"
expect_entry "-rw-r--r-- root root /usr/lib/systemd/system/codex-warden.service"
expect_entry "-rw-r--r-- root root /usr/share/doc/codex-warden/admin-guide.md"
expect_entry "-rw-r--r-- root root /usr/share/doc/codex-warden/deploy-linux.md"
expect_entry "-rw-r--r-- root root /usr/share/doc/codex-warden/reference/policy.md"
expect_entry "-rw-r--r-- root root /usr/share/man/man1/codex-warden.1"
expect_entry "-rw-r--r-- root root /usr/share/bash-completion/completions/codex-warden"
expect_entry "-rw-r--r-- root root /usr/share/zsh/site-functions/_codex-warden"
expect_entry "-rw-r--r-- root root /usr/share/man/man5/codex-warden-policy.5"
expect_entry "-rw-r--r-- root root /usr/share/licenses/codex-warden/LICENSE"
for p in policies/*.toml; do
	expect_entry "-rw-r--r-- root root /usr/share/doc/codex-warden/examples/$(basename "$p")"
	# The example's `#:schema` line names a file the package installs.
	expect_entry "-rw-r--r-- root root $(sed -n '1s/^#:schema //p' "$p")"
done
for f in packaging/mdm/*; do
	case $f in
	*.sh) expect_entry "-rwxr-xr-x root root /usr/share/codex-warden/mdm/$(basename "$f")" ;;
	*) expect_entry "-rw-r--r-- root root /usr/share/codex-warden/mdm/$(basename "$f")" ;;
	esac
done
[ "$(rpm -qp --queryformat '%{LICENSE}' "$pkg" 2>/dev/null)" = Apache-2.0 ] || fail "License tag is not Apache-2.0"
if grep -q ' /etc/' "$out/contents"; then fail "the package ships files under /etc"; fi
bad=$(awk '$1 ~ /^.....w|^........w|s/' "$out/contents")
[ -z "$bad" ] || fail "group/other-writable or setuid entries: $bad"
# Docs are %doc (rpm -qdp lists them), so --excludedocs installs skip them.
rpm -qdp "$pkg" | grep -cx /usr/share/doc/codex-warden/admin-guide.md >/dev/null || fail "docs are not %doc"

rpm -qp --scripts "$pkg" > "$out/scripts"
for s in postinstall preuninstall postuninstall; do
	grep -q "^$s scriptlet" "$out/scripts" || fail "no $s scriptlet"
done
for d in "0755 /etc/codex-warden /etc/codex-warden/policy.d" "0711 /var/lib/codex-warden" \
	"0750 /var/log/codex-warden"; do
	grep -qF -- "-o root -g root -m $d" "$out/scripts" || fail "%post does not create $d"
done
# RPM has no purge: no scriptlet may delete the admin's policy, the vault or the audit log.
if grep -E 'rm .*(/etc/codex-warden|/var/lib/codex-warden|/var/log/codex-warden)' "$out/scripts" |
	grep -v '^ *#' | grep -c . >/dev/null; then
	fail "a scriptlet deletes the policy, vault or audit log"
fi
for s in packaging/rpm/*.sh; do sh -n "$s" || fail "$s: syntax error"; done
rpm -qpR "$pkg" | grep -c '^libc.so.6' >/dev/null || fail "no libc requirement (auto-req)"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP rpm scriptlets: not root"
elif [ -e /usr/bin/codex-warden ] || [ -e /usr/lib/systemd/system/codex-warden.service ]; then
	echo "SKIP rpm scriptlets: codex-warden is installed here already"
else
	# shellcheck source=tests/packaging/lib.sh
	. tests/packaging/lib.sh
	db=$(mktemp -d /var/tmp/codex-warden-rpmdb.XXXXXX)
	trap 'rpm --dbpath "$db" -e codex-warden >/dev/null 2>&1 || true; rm -rf "$db"; put_back' EXIT
	set_aside
	pkg2=$out/release-2.rpm
	cargo generate-rpm -s 'release = "2"' -o "$pkg2" 2>/dev/null
	# rpm on Debian warns on every call that it is not the system's package manager.
	rpmq() { rpm --dbpath "$db" --nodeps "$@" 2> >(grep -v 'Alien\|know what you are doing' >&2); }
	echo "-- rpm -i, rpm -U (release 2), rpm -e with a private database"
	rpmq -i "$pkg"
	for d in "/etc/codex-warden/policy.d 755" "/var/lib/codex-warden 711" "/var/log/codex-warden 750"; do
		# shellcheck disable=SC2086 # "path mode" split on purpose
		set -- $d
		[ "$(stat -c '%U %G %a' "$1")" = "root root $2" ] || fail "%post made $1 $(stat -c '%U %G %a' "$1")"
	done
	[ -d /etc/codex ] || fail "%post did not make /etc/codex"
	echo keep > /etc/codex-warden/policy.d/50-keep.toml
	echo keep > /var/lib/codex-warden/keep
	echo keep > /var/log/codex-warden/audit.jsonl
	rpmq -U "$pkg2"
	[ "$(rpm --dbpath "$db" -q codex-warden 2>/dev/null)" = "$(rpm -qp "$pkg2" 2>/dev/null)" ] || fail "rpm -U"
	rpmq -e codex-warden
	[ ! -e /usr/bin/codex-warden ] || fail "rpm -e left /usr/bin/codex-warden"
	for f in /etc/codex-warden/policy.d/50-keep.toml /var/lib/codex-warden/keep /var/log/codex-warden/audit.jsonl; do
		[ -e "$f" ] || fail "rpm -U or rpm -e deleted $f"
	done
	# A later install enforces the kept policy at once: %post says so.
	rpmq -i "$pkg" > "$out/reinstall.txt"
	grep -c 'already holds a policy, left by an earlier install: 50-keep.toml' "$out/reinstall.txt" >/dev/null ||
		{ cat "$out/reinstall.txt"; fail "a reinstall did not say that it found the kept policy"; }
	rpmq -e codex-warden
fi
echo "rpm contents: ok ($(wc -l < "$out/contents") files; requires glibc $(rpm -qpR "$pkg" |
	sed -n 's/^libc.so.6(GLIBC_\([0-9.]*\)).*/\1/p' | sort -V | tail -1))"
