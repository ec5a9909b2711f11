#!/usr/bin/env bash
# Builds the Debian package of Coffer from a self-contained publish (packaging/publish.sh).
#   packaging/build-deb.sh PUBLISH_DIR [OUTPUT_DIR]
# PUBLISH_DIR is linux-x64 or linux-arm64 output (the architecture is read from it); the .deb,
# coffer_<version>_<arch>.deb, is written to OUTPUT_DIR (default: .build/deb) and its path printed.
# COFFER_DEB_COMPRESSION (xz, the default, or zstd, gzip, none) trades size for build time;
# COFFER_DEB_MAINTAINER names who answers for the package ("Name <address>").
# Layout and maintainer scripts: docs/install.md, "The Debian package".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
publish="${1:?usage: build-deb.sh PUBLISH_DIR [OUTPUT_DIR]}"
out="${2:-$root/.build/deb}"
compression="${COFFER_DEB_COMPRESSION:-xz}"
maintainer="${COFFER_DEB_MAINTAINER:-Coffer maintainers <coffer@localhost>}"

[ -x "$publish/coffer" ] || { echo "build-deb.sh: $publish/coffer is missing: run packaging/publish.sh first." >&2; exit 1; }
# The runtime a publish was made for is in its coffer.deps.json ("runtimeTarget": ".NETCoreApp,Version=v10.0/linux-x64").
case "$(grep -o '"name": *"[^"]*/linux-[a-z0-9]*"' "$publish/coffer.deps.json" | head -1)" in
  */linux-x64\") arch=amd64 ;;
  */linux-arm64\") arch=arm64 ;;
  *) echo "build-deb.sh: $publish is not a linux-x64 or linux-arm64 publish." >&2; exit 1 ;;
esac
# The project's version, as coffer.deps.json names the coffer library ("coffer/1.0.0").
version="$(grep -o '"coffer/[0-9][^"]*"' "$publish/coffer.deps.json" | head -1 | sed 's|"coffer/\(.*\)"|\1|')"
[ -n "$version" ] || { echo "build-deb.sh: no version for coffer in $publish/coffer.deps.json." >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/coffer"

# Files: everything root-owned (dpkg-deb --root-owner-group), directories 0755, files 0644,
# executables 0755; the group and modes that need the coffer user are set by postinst.
install -d "$pkg/usr/lib/coffer" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/coffer" \
  "$pkg/usr/share/doc/coffer" "$pkg/DEBIAN"
cp -R "$publish/." "$pkg/usr/lib/coffer/"
find "$pkg/usr/lib/coffer" -type d -exec chmod 0755 {} +
find "$pkg/usr/lib/coffer" -type f -exec chmod 0644 {} +
# The executable and the runtime's crash dump helper, when the publish has it.
chmod 0755 "$pkg/usr/lib/coffer/coffer"
[ ! -f "$pkg/usr/lib/coffer/createdump" ] || chmod 0755 "$pkg/usr/lib/coffer/createdump"
ln -s ../lib/coffer/coffer "$pkg/usr/bin/coffer"
install -m 0644 "$here/coffer.service" "$pkg/lib/systemd/system/coffer.service"
install -m 0640 "$here/coffer.json" "$pkg/etc/coffer/coffer.json"
install -m 0644 "$root/docs/install.md" "$pkg/usr/share/doc/coffer/install.md"
install -m 0644 "$here/deb/copyright" "$pkg/usr/share/doc/coffer/copyright"
# The commit the publish was built from, as its informational version holds it ("1.0.0+<commit>",
# docs/install.md, "Which build is this"), read without running it (it may be for another CPU).
commit="$(grep -aoE "$version\+[0-9a-f]{40,64}(\.dirty)?" "$publish/coffer.dll" | head -1 | cut -d+ -f2 | sed "s/\.dirty$/ (with uncommitted changes)/")"
printf 'coffer (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- %s  %s\n' \
  "$version" "${commit:-unknown (a source tree without git)}" \
  "$maintainer" "$(date -R)" | gzip -9n > "$pkg/usr/share/doc/coffer/changelog.gz"
chmod 0644 "$pkg/usr/share/doc/coffer/changelog.gz"
install -d "$pkg/usr/share/lintian/overrides"
install -m 0644 "$here/deb/lintian-overrides" "$pkg/usr/share/lintian/overrides/coffer"

for script in postinst prerm postrm; do
  install -m 0755 "$here/deb/$script" "$pkg/DEBIAN/$script"
done
echo /etc/coffer/coffer.json > "$pkg/DEBIAN/conffiles"
(cd "$pkg" && find usr lib -type f -print0 | sort -z | xargs -0 md5sum) > "$pkg/DEBIAN/md5sums"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s|@INSTALLED_SIZE@|$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)|" "$here/deb/control" > "$pkg/DEBIAN/control"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles" "$pkg/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/coffer_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"$compression" --build "$pkg" "$deb" >/dev/null
echo "$deb"
