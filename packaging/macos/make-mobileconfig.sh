#!/bin/sh
# Wrap a policy TOML into a configuration profile (.mobileconfig) for MDM (Jamf, Kandji, Intune,
# any MDM that takes a custom profile). Runs on macOS and Linux.
#
# Usage: packaging/macos/make-mobileconfig.sh POLICY.toml [ORG] > codex-warden-policy.mobileconfig
#        packaging/macos/make-mobileconfig.sh --prefs-plist POLICY.toml > com.codex-warden.plist
#
# --prefs-plist writes only the preferences (a plist with the one key), for MDM forms that take a
# preference domain and a plist file (Jamf "Application & Custom Settings", Intune "Preference
# file") instead of a whole profile.
#
# The profile has one payload of type `com.codex-warden` (the preference domain) with the key
# `policy_toml_base64`: the base64 of the file. Installed at device level, macOS writes it to
# /Library/Managed Preferences/com.codex-warden.plist, which the agent reads; it outranks the
# drop-ins in /etc/codex-warden/policy.d. Validate the TOML first: codex-warden policy validate FILE
#
# Each run makes new payload UUIDs; the identifier stays com.codex-warden.policy, so an MDM
# replaces the previous profile with this one.
#
# This is the base64 form (Codex-style parity, no agent needed). For the policy as native keys an
# MDM console can show and edit, use the agent: codex-warden policy mdm --format mobileconfig|plist
# (docs/deploy-macos.md).
set -eu
prefs_only=
if [ "${1:-}" = --prefs-plist ]; then prefs_only=1; shift; fi
[ $# -ge 1 ] && [ -f "$1" ] || {
	echo "usage: $0 [--prefs-plist] POLICY.toml [ORG] > FILE" >&2
	exit 2
}
policy=$1
org=${2:-}

uuid() {
	if command -v uuidgen >/dev/null 2>&1; then uuidgen
	else cat /proc/sys/kernel/random/uuid
	fi | tr '[:lower:]' '[:upper:]'
}
xml_escape() { printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }
# One line of base64 (GNU base64 wraps at 76 columns, macOS base64 does not; both decode it).
b64=$(base64 < "$policy" | tr -d '\n')

if [ -n "$prefs_only" ]; then
	cat <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>policy_toml_base64</key>
	<string>$b64</string>
</dict>
</plist>
PLIST
	exit 0
fi

name=$(xml_escape "$(sed -n 's/^name *= *"\([^"]*\)".*/\1/p' "$policy" | head -1)")
revision=$(xml_escape "$(sed -n 's/^revision *= *"\([^"]*\)".*/\1/p' "$policy" | head -1)")

cat <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadType</key>
			<string>com.codex-warden</string>
			<key>PayloadIdentifier</key>
			<string>com.codex-warden.policy.settings</string>
			<key>PayloadUUID</key>
			<string>$(uuid)</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
			<key>PayloadDisplayName</key>
			<string>codex-warden policy</string>
			<key>policy_toml_base64</key>
			<string>$b64</string>
		</dict>
	</array>
	<key>PayloadDisplayName</key>
	<string>codex-warden policy${name:+ $name}${revision:+ ($revision)}</string>
	<key>PayloadDescription</key>
	<string>Which Codex logins are allowed on this Mac; enforced by the codex-warden agent.</string>
	<key>PayloadIdentifier</key>
	<string>com.codex-warden.policy</string>
	<key>PayloadOrganization</key>
	<string>$(xml_escape "$org")</string>
	<key>PayloadScope</key>
	<string>System</string>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>$(uuid)</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
PLIST
