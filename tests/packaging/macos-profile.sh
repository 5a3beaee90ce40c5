#!/usr/bin/env bash
# What of the macOS packaging can be checked on Linux (the .pkg itself needs pkgbuild on a Mac):
# - make-mobileconfig.sh wraps each example policy into a profile that parses, and the agent
#   reads the policy back from the managed-preferences plist macOS makes of it (binary plist,
#   key policy_toml_base64), byte for byte;
# - the launchd plists parse and have what the package scripts rely on, and the managed-preferences
#   path and key they and make-mobileconfig.sh use are still the agent's (src/);
# - the package scripts are valid sh/bash.
#
# Usage: tests/packaging/macos-profile.sh [BINARY]   (default target/release/codex-warden)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/codex-warden}")
command -v python3 >/dev/null || { echo "SKIP macOS profile: python3 is not installed"; exit 0; }
fail() { echo "FAIL: $*"; exit 1; }

for s in packaging/macos/scripts/preinstall packaging/macos/scripts/postinstall \
	packaging/macos/uninstall.sh packaging/macos/make-mobileconfig.sh \
	packaging/macos/smoke-test.sh; do
	sh -n "$s" || fail "$s: syntax error"
done
bash -n packaging/macos/build-pkg.sh || fail "build-pkg.sh: syntax error"

python3 - packaging/com.codex-warden.agent.plist <<'PY' || fail "launchd plist"
import plistlib, sys
p = plistlib.load(open(sys.argv[1], "rb"))
assert p["Label"] == "com.codex-warden.agent", p["Label"]
assert p["ProgramArguments"] == ["/usr/local/bin/codex-warden", "run"], p["ProgramArguments"]
assert p["RunAtLoad"] is True and p["KeepAlive"] is True
# postinstall makes this directory; launchd would not.
assert p["StandardErrorPath"].startswith("/var/log/codex-warden/"), p["StandardErrorPath"]
assert p["Umask"] == 0o077
PY
python3 - packaging/macos/com.codex-warden.policy-reload.plist <<'PY' || fail "policy-reload plist"
import plistlib, sys
p = plistlib.load(open(sys.argv[1], "rb"))
assert p["Label"] == "com.codex-warden.policy-reload"
assert p["ProgramArguments"] == ["/bin/launchctl", "kill", "HUP", "system/com.codex-warden.agent"]
# The file the agent reads (src/settings.rs DEFAULT_MANAGED_PREFS) and its directory.
assert "/Library/Managed Preferences/com.codex-warden.plist" in p["WatchPaths"]
PY
grep -rqF '"/Library/Managed Preferences/com.codex-warden.plist"' src/ ||
	fail "src/ reads managed preferences elsewhere now: update the macOS packaging"
grep -rqF '"policy_toml_base64"' src/ ||
	fail "src/ has another managed-preferences key now: update make-mobileconfig.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir "$T/empty"
for policy in policies/*.toml; do
	packaging/macos/make-mobileconfig.sh "$policy" "Example Corp" > "$T/profile.mobileconfig"
	# What macOS writes to /Library/Managed Preferences/com.codex-warden.plist: the payload's own
	# keys, as a binary plist.
	python3 - "$T/profile.mobileconfig" "$T/com.codex-warden.plist" "$policy" <<'PY' || fail "$policy: profile"
import base64, plistlib, sys
profile = plistlib.load(open(sys.argv[1], "rb"))
assert profile["PayloadType"] == "Configuration" and profile["PayloadScope"] == "System"
[payload] = profile["PayloadContent"]
assert payload["PayloadType"] == "com.codex-warden", payload["PayloadType"]
assert base64.b64decode(payload["policy_toml_base64"]) == open(sys.argv[3], "rb").read()
prefs = {k: v for k, v in payload.items() if not k.startswith("Payload")}
plistlib.dump(prefs, open(sys.argv[2], "wb"), fmt=plistlib.FMT_BINARY)
PY
	chmod 0644 "$T/com.codex-warden.plist"
	name=$(sed -n 's/^name *= *"\([^"]*\)".*/\1/p' "$policy")
	"$bin" --policy-dir "$T/empty" --managed-prefs "$T/com.codex-warden.plist" policy explain \
		> "$T/explain" 2>&1 || { cat "$T/explain"; fail "$policy: the agent did not load the profile's policy"; }
	grep -q "^policy \`$name\`" "$T/explain" || { cat "$T/explain"; fail "$policy: not $name"; }
	grep -q "^  managed preferences (" "$T/explain" || { cat "$T/explain"; fail "$policy: not from managed preferences"; }
	# --prefs-plist: the same preferences as an XML plist, read by the agent as it is.
	packaging/macos/make-mobileconfig.sh --prefs-plist "$policy" > "$T/com.codex-warden.plist"
	"$bin" --policy-dir "$T/empty" --managed-prefs "$T/com.codex-warden.plist" policy explain \
		> "$T/explain" 2>&1 || { cat "$T/explain"; fail "$policy: --prefs-plist output not loaded"; }
	grep -q "^policy \`$name\`" "$T/explain" || { cat "$T/explain"; fail "$policy: --prefs-plist: not $name"; }
done

# Native keys: `policy mdm --format mobileconfig` per example policy, read by Python's plistlib (a
# second plist implementation), its payload written as the binary plist macOS makes of it, and
# loaded by the agent into the same effective policy as the TOML drop-in.
for policy in policies/*.toml; do
	rm -rf "$T/one" && mkdir -m 755 "$T/one" && install -m 644 "$policy" "$T/one/"
	"$bin" policy mdm --format mobileconfig --from "$T/one" --org "Example Corp" > "$T/native.mobileconfig" ||
		fail "$policy: policy mdm"
	python3 - "$T/native.mobileconfig" "$T/com.codex-warden.plist" <<'PY' || fail "$policy: native profile"
import plistlib, sys
profile = plistlib.load(open(sys.argv[1], "rb"))
assert profile["PayloadType"] == "Configuration" and profile["PayloadOrganization"] == "Example Corp"
[payload] = profile["PayloadContent"]
assert payload["PayloadType"] == "com.codex-warden" and "policy_toml_base64" not in payload
assert isinstance(payload["login"], dict) and isinstance(payload["policy"]["name"], str)
plistlib.dump(payload, open(sys.argv[2], "wb"), fmt=plistlib.FMT_BINARY)
PY
	chmod 0644 "$T/com.codex-warden.plist"
	"$bin" --policy-dir "$T/one" --managed-prefs "$T/none" policy explain --json > "$T/want.json"
	"$bin" --policy-dir "$T/empty" --managed-prefs "$T/com.codex-warden.plist" policy explain --json \
		> "$T/got.json" || { cat "$T/got.json"; fail "$policy: native keys not loaded"; }
	python3 - "$T/want.json" "$T/got.json" <<'PY' || fail "$policy: native keys give another policy"
import json, sys
want, got = (json.load(open(p)) for p in sys.argv[1:3])
assert want["policy"] == got["policy"], (want["policy"], got["policy"])
assert all(s.startswith("managed preferences (") for s in [k["source"]["file"] for k in got["keys"] if k.get("source")])
PY
done
python3 - packaging/macos/codex-warden.jamf-schema.json <<'PY' || fail "Jamf schema"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["type"] == "object" and "login" in s["properties"] and "exception" in s["properties"]
PY
"$bin" policy mdm --format jamf-schema | cmp -s - packaging/macos/codex-warden.jamf-schema.json ||
	fail "packaging/macos/codex-warden.jamf-schema.json is stale: regenerate it (docs/deploy-macos.md)"
echo "macOS profile: ok ($(ls policies/*.toml | wc -l) example policies through make-mobileconfig.sh (profile and --prefs-plist) and policy mdm (native keys) and back; Jamf schema; launchd plists; scripts)"
