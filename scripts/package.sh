#!/usr/bin/env bash
# Builds the Debian package: the release binary with the Swift runtime linked in statically
# (it runs on a server without a Swift toolchain), stripped; the systemd units and timer; an
# example configuration, an environment file (0600) and a credentials directory (0700) under
# /etc/audit-forwarder; the docs. Prints the package's path as its last line.
#
#   scripts/package.sh [--output DIR]      (default DIR: .build/package)
#
# Needs Swift, dpkg-deb and the build's apt packages (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
output=.build/package
while [ $# -gt 0 ]; do
  case "$1" in
    --output) output="$2"; shift 2 ;;
    *) echo "usage: scripts/package.sh [--output DIR]" >&2; exit 64 ;;
  esac
done
scripts/install-deps.sh

version=$(sed -n 's/^ *static let version = "\(.*\)"$/\1/p' Sources/audit-forwarder/BuildInfo.swift)
[ -n "$version" ] || { echo "no version in Sources/audit-forwarder/BuildInfo.swift" >&2; exit 1; }
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit-modified"
architecture=$(dpkg --print-architecture)

# The build stamp --version prints: compiled in only here (BUILD_STAMP), never committed.
printf '// Written by scripts/package.sh; not committed.\nlet buildStamp = "build %s, %s"\n' \
  "$commit" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > Sources/audit-forwarder/BuildStamp.swift
scripts/build-release.sh --product audit-forwarder -Xswiftc -DBUILD_STAMP
binary=$(scripts/build-release.sh --product audit-forwarder -Xswiftc -DBUILD_STAMP --show-bin-path)/audit-forwarder
# Where lld linked it (glibc 2.36 and newer, Package.swift), the code layout must have taken: every
# 40th function of the list that the binary has (at least 50 of them) lies in the first 12 MiB of
# its 33 MB of text, nine in ten at least (unordered, fewer than half do). Without the layout the
# agent maps about 10 MiB more of its code (Benchmarks/README.md). No early exits in these
# pipelines: under pipefail, the SIGPIPE of the command writing would fail the script.
if readelf -p .comment "$binary" | grep 'Linker: LLD' >/dev/null; then
  text=$(readelf -SW "$binary" | awk '{ for (i = 1; i < NF; i++) if ($i == ".text") print $(i + 2) }')
  names=$(mktemp)
  awk 'NR % 40 == 1' scripts/code-layout.order > "$names"
  found=0 near=0
  while read -r address; do
    found=$((found + 1))
    if [ $((16#$address - 16#$text)) -lt $((12 << 20)) ]; then near=$((near + 1)); fi
  done < <(nm "$binary" | awk 'NR == FNR { want[$1] = 1; next } ($3 in want) && !seen[$3]++ { print $1 }' "$names" -)
  rm -f "$names"
  if [ "$found" -lt 50 ] || [ $((near * 10)) -lt $((found * 9)) ]; then
    echo "the code layout (scripts/code-layout.order) did not take in $binary: $near of $found listed functions up front" >&2
    exit 1
  fi
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
package="audit-forwarder_${version}_${architecture}"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/doc/audit-forwarder/examples" \
  "$root/usr/share/doc/audit-forwarder/docs"
install -m 0755 "$binary" "$root/usr/bin/audit-forwarder"
strip --strip-unneeded "$root/usr/bin/audit-forwarder"
for unit in audit-forwarder.service audit-forwarder-once.service audit-forwarder-once.timer; do
  sed 's|/usr/local/bin/audit-forwarder|/usr/bin/audit-forwarder|g' "systemd/$unit" > "$root/lib/systemd/system/$unit"
  chmod 0644 "$root/lib/systemd/system/$unit"
done
install -d -m 0755 "$root/etc/audit-forwarder"
install -m 0640 config/daemon.yaml "$root/etc/audit-forwarder/config.yaml"
install -m 0600 packaging/debian/env "$root/etc/audit-forwarder/env"
install -d -m 0700 "$root/etc/audit-forwarder/credentials"
install -m 0644 README.md "$root/usr/share/doc/audit-forwarder/"
install -m 0644 docs/*.md "$root/usr/share/doc/audit-forwarder/docs/"
install -m 0644 config/*.yaml "$root/usr/share/doc/audit-forwarder/examples/"
install -m 0644 packaging/debian/copyright "$root/usr/share/doc/audit-forwarder/copyright"

# Depends: the packages that hold the shared libraries the binary still links.
depends=$(ldd "$root/usr/bin/audit-forwarder" | awk '/=> \// { print $3 }' | while read -r library; do
  dpkg -S "$(readlink -f "$library")" 2>/dev/null || dpkg -S "$library" 2>/dev/null || true
done | cut -d: -f1 | sort -u | paste -sd, - | sed 's/,/, /g')
# The oldest glibc that runs the binary: the newest symbol version it needs, and 2.36 when the
# release link packed its relocations (DT_RELR, Package.swift). dpkg then refuses an older system
# plainly instead of the loader failing at start.
glibc=$(objdump -T "$root/usr/bin/audit-forwarder" | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -n 1 | cut -d_ -f2)
if readelf -V "$root/usr/bin/audit-forwarder" | grep GLIBC_ABI_DT_RELR >/dev/null; then  # read to the end (pipefail)
  glibc=$(printf '%s\n2.36\n' "$glibc" | sort -V | tail -n 1)
fi
[ -z "$glibc" ] || depends=$(printf '%s' "$depends" | sed -E "s/(^|, )libc6(,|$)/\1libc6 (>= $glibc)\2/")
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCHITECTURE@/$architecture/" -e "s/@DEPENDS@/$depends/" \
  -e "s/@INSTALLED_SIZE@/$installed_size/" packaging/debian/control > "$root/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "packaging/debian/$script" "$root/DEBIAN/$script"; done

mkdir -p "$output"
dpkg-deb --root-owner-group --build "$root" "$output/$package.deb" >&2
echo "$(cd "$output" && pwd)/$package.deb"
