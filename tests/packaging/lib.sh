# shellcheck shell=bash
# Shared by the packaging tests that install a package on this (disposable) machine.
#
# set_aside: move the paths a package of codex-warden uses, if they exist, into a scratch dir;
# put_back (run from an EXIT trap) deletes whatever the test left there and moves them back.
# So a machine where the agent ran before (CI runs it from the README first) keeps its state.

# /etc/codex: the agent the tests run writes Codex's requirements there (and they would then
# refuse API-key logins in the test suite that runs after).
warden_paths=(/etc/codex-warden /var/lib/codex-warden /var/log/codex-warden /etc/codex)
warden_aside=

# /var/lib/codex-warden -> var_lib_codex-warden (the basenames are all "codex-warden")
aside_name() { local n=${1#/}; echo "${n//\//_}"; }

set_aside() {
	warden_aside=$(mktemp -d /var/tmp/codex-warden-pkgtest.XXXXXX)
	local p
	for p in "${warden_paths[@]}"; do
		if [ -e "$p" ]; then mv "$p" "$warden_aside/$(aside_name "$p")"; fi
	done
}

put_back() {
	[ -n "$warden_aside" ] || return 0
	local p
	for p in "${warden_paths[@]}"; do
		rm -rf "$p"
		if [ -e "$warden_aside/$(aside_name "$p")" ]; then mv "$warden_aside/$(aside_name "$p")" "$p"; fi
	done
	rmdir "$warden_aside" 2>/dev/null || true
	warden_aside=
}
