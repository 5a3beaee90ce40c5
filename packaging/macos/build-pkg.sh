#!/bin/bash
# Build the macOS installer package: target/macos/codex-warden-VERSION.pkg
#
# Needs macOS with Xcode command line tools (pkgbuild, productbuild, lipo) and a Rust toolchain
# with both Apple targets: rustup target add aarch64-apple-darwin x86_64-apple-darwin
# It cannot run on Linux (pkgbuild and productbuild exist only on macOS).
#
# Usage: packaging/macos/build-pkg.sh [--app-sign "Developer ID Application: Corp (TEAMID)"]
#                                     [--installer-sign "Developer ID Installer: Corp (TEAMID)"]
#                                     [--notarize KEYCHAIN_PROFILE]
#
# The package installs (owner root:wheel):
#   /usr/local/bin/codex-warden                             0755  universal binary (arm64 + x86_64)
#   /Library/LaunchDaemons/com.codex-warden.agent.plist     0644  the launch daemon
#   /Library/LaunchDaemons/com.codex-warden.policy-reload.plist  0644  SIGHUP on MDM policy change
#   /usr/local/share/doc/codex-warden/                      0644  docs and examples/ policies
# and its scripts (packaging/macos/scripts/) stop the old agent before an upgrade, make
# /etc/codex-warden/policy.d (0755), /var/lib/codex-warden (0711), /var/log/codex-warden (0750)
# and bootstrap the daemon. Sign and notarize for MDM: unsigned packages are refused by Gatekeeper
# when users open them, and a PPPC (Full Disk Access) profile needs a signed binary.
set -euo pipefail
cd "$(dirname "$0")/../.."

app_sign='' installer_sign='' notary_profile=''
while [ $# -gt 0 ]; do
	case $1 in
	--app-sign) app_sign=$2; shift 2 ;;
	--installer-sign) installer_sign=$2; shift 2 ;;
	--notarize) notary_profile=$2; shift 2 ;;
	*) echo "usage: $0 [--app-sign ID] [--installer-sign ID] [--notarize KEYCHAIN_PROFILE]" >&2; exit 2 ;;
	esac
done
if [ "$(uname -s)" != Darwin ]; then
	echo "build-pkg.sh: needs macOS (pkgbuild, productbuild, lipo); build the package on a Mac" >&2
	exit 2
fi
if [ -n "$notary_profile" ] && [ -z "$installer_sign" ]; then
	echo "build-pkg.sh: --notarize needs --installer-sign (Apple notarizes signed packages only)" >&2
	exit 2
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
identifier=com.codex-warden.pkg
out=target/macos
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

echo "== universal binary"
for t in aarch64-apple-darwin x86_64-apple-darwin; do
	cargo build --release --locked --target "$t"
done
lipo -create -output "$work/codex-warden" \
	target/aarch64-apple-darwin/release/codex-warden target/x86_64-apple-darwin/release/codex-warden
if [ -n "$app_sign" ]; then
	# Hardened runtime and a timestamp: what notarization requires.
	codesign --force --options runtime --timestamp --identifier com.codex-warden.agent \
		--sign "$app_sign" "$work/codex-warden"
fi

echo "== payload"
root=$work/root
install -d -m 0755 "$root/usr/local/bin" "$root/Library/LaunchDaemons" \
	"$root/usr/local/share/doc/codex-warden/examples" "$root/usr/local/share/doc/codex-warden/reference"
install -m 0755 "$work/codex-warden" "$root/usr/local/bin/codex-warden"
install -m 0644 packaging/com.codex-warden.agent.plist \
	packaging/macos/com.codex-warden.policy-reload.plist "$root/Library/LaunchDaemons/"
install -m 0644 README.md docs/*.md "$root/usr/local/share/doc/codex-warden/"
install -m 0644 docs/reference/*.md "$root/usr/local/share/doc/codex-warden/reference/"
install -m 0644 policies/*.toml "$root/usr/local/share/doc/codex-warden/examples/"
plutil -lint "$root"/Library/LaunchDaemons/*.plist

echo "== pkgbuild + productbuild"
# --ownership recommended: root:wheel for everything in the payload.
pkgbuild --root "$root" --identifier "$identifier" --version "$version" \
	--scripts packaging/macos/scripts --install-location / --ownership recommended \
	"$work/codex-warden-component.pkg"
pkg=$out/codex-warden-$version.pkg
sign_args=()   # (bash 3.2 on macOS: an empty array is expanded with the ${a[@]+...} idiom)
[ -z "$installer_sign" ] || sign_args=(--sign "$installer_sign" --timestamp)
productbuild ${sign_args[@]+"${sign_args[@]}"} --package "$work/codex-warden-component.pkg" "$pkg"

if [ -n "$notary_profile" ]; then
	echo "== notarize"
	xcrun notarytool submit "$pkg" --keychain-profile "$notary_profile" --wait
	xcrun stapler staple "$pkg"
fi
pkgutil --payload-files "$pkg" | sed 's/^/   /'
[ -z "$installer_sign" ] || pkgutil --check-signature "$pkg"
echo "built $pkg"
