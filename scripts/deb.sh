#!/usr/bin/env bash
# Builds the .deb with dpkg-deb from what scripts/package.sh staged for the archive (the same
# static binary, completions and man page). Called by package.sh --deb; not meant to run alone.
#
#   bash scripts/deb.sh --bin BIN --stage DIR --arch amd64|arm64 --version V --out DIR
#
# Installs:
#   /usr/bin/docker-credential-acr-helper
#   /usr/share/bash-completion/completions/docker-credential-acr-helper
#   /usr/share/zsh/vendor-completions/_docker-credential-acr-helper
#   /usr/share/fish/vendor_completions.d/docker-credential-acr-helper.fish
#   /usr/share/man/man1/docker-credential-acr-helper.1.gz
#   /usr/share/doc/docker-credential-acr-helper/{README.md.gz,changelog.gz,copyright}
# (completions and man page only when the stage has them). No dependencies: the binary is static.
set -euo pipefail
cd "$(dirname "$0")/.."

tool=deb.sh
# shellcheck source=scripts/package-args.sh
source scripts/package-args.sh
command -v dpkg-deb >/dev/null || { echo "deb.sh: dpkg-deb is needed (Debian/Ubuntu)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
doc=$root/usr/share/doc/$name
install -d -m 755 "$root/DEBIAN" "$root/usr/bin" "$doc"
install -m 755 "$bin" "$root/usr/bin/$name"
if [ -d "$stage/completions" ]; then
  install -D -m 644 "$stage/completions/$name.bash" "$root/usr/share/bash-completion/completions/$name"
  install -D -m 644 "$stage/completions/_$name" "$root/usr/share/zsh/vendor-completions/_$name"
  install -D -m 644 "$stage/completions/$name.fish" "$root/usr/share/fish/vendor_completions.d/$name.fish"
fi
if [ -f "$stage/man/$name.1" ]; then
  install -d -m 755 "$root/usr/share/man/man1"
  gzip -9n <"$stage/man/$name.1" >"$root/usr/share/man/man1/$name.1.gz"
  chmod 644 "$root/usr/share/man/man1/$name.1.gz"
fi
gzip -9n <README.md >"$doc/README.md.gz"
gzip -9n <CHANGELOG.md >"$doc/changelog.gz"
{
  echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  echo "Upstream-Name: $name"
  echo
  echo "Files: *"
  echo "License: Apache-2.0"
  echo
  echo "License: Apache-2.0"
  sed -e 's/^$/./' -e 's/^/ /' LICENSE
} >"$doc/copyright"
chmod 644 "$doc"/*

description=$(sed -n 's/^description = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: $name
Version: $version
Architecture: $arch
Maintainer: docker-credential-acr-helper maintainers <noreply@invalid>
Installed-Size: $size
Section: utils
Priority: optional
Description: ${description%%:*}
 ${description#*: }.
 Configure it in ~/.docker/config.json under credHelpers (see
 /usr/share/doc/$name/README.md.gz).
EOF
mkdir -p "$out"
deb=$out/${name}_${version}_${arch}.deb
# SOURCE_DATE_EPOCH makes dpkg-deb's member times reproducible.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)} \
  dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "deb.sh: wrote $deb"
