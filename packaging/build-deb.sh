#!/usr/bin/env bash
# build-deb.sh — `make deb`: the Debian binary package build/zkfs_VERSION_ARCH.deb
# with the Debian tools: `make install` into a staging root (PREFIX=/usr),
# stripped binaries, dpkg-shlibdeps for the library dependencies,
# dpkg-gencontrol for DEBIAN/control (from packaging/debian/control and
# changelog), conffiles, maintainer scripts, md5sums, then dpkg-deb.
# dpkg-buildpackage is not used: it rebuilds from a clean tree and writes
# into the parent directory; this builds from the objects `make` made.
set -euo pipefail
cd "$(dirname "$0")/.."
DEB=packaging/debian
VERSION=$(dpkg-parsechangelog -l "$DEB/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
WORK=build/deb
# The layout dpkg-shlibdeps and dpkg-gencontrol expect: debian/control and
# the package's files in debian/zkfs.
STAGE=$WORK/debian/zkfs
OUT=build/zkfs_${VERSION}_${ARCH}.deb
rm -rf "$WORK"
mkdir -p "$STAGE"
make --no-print-directory -s install DESTDIR="$PWD/$STAGE" PREFIX=/usr >/dev/null
# Debian paths: docs as the package name, changelog and copyright with them.
for b in zkserver zktool zkfs; do
  [ -f "$STAGE/usr/bin/$b" ] && strip --strip-unneeded --remove-section=.comment --remove-section=.note "$STAGE/usr/bin/$b"
done
# Manual pages compressed; their alias links re-pointed at the .gz files.
rm -f "$STAGE/usr/share/man/man8/zkServer.sh.8" "$STAGE/usr/share/man/man8/mount.zkfs.8"
gzip -9n "$STAGE"/usr/share/man/man1/*.1 "$STAGE"/usr/share/man/man8/*.8
ln -sf zkserverctl.8.gz "$STAGE/usr/share/man/man8/zkServer.sh.8.gz"
ln -sf zkfs.8.gz "$STAGE/usr/share/man/man8/mount.zkfs.8.gz"
install -m 644 "$DEB/copyright" "$STAGE/usr/share/doc/zkfs/copyright"
gzip -9nc "$DEB/changelog" > "$STAGE/usr/share/doc/zkfs/changelog.Debian.gz"
cp "$DEB/control" "$DEB/changelog" "$WORK/debian/"
mkdir -p "$STAGE/DEBIAN"   # dpkg-shlibdeps finds the package root by it
bins=()
for b in "$STAGE"/usr/bin/*; do
  [ ! -L "$b" ] && [ "$(head -c4 "$b" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && bins+=("-e${b#"$WORK"/}")
done
(cd "$WORK" && dpkg-shlibdeps -Tdebian/substvars "${bins[@]}")
echo "misc:Depends=" >> "$WORK/debian/substvars"
(cd "$WORK" && dpkg-gencontrol -pzkfs -Pdebian/zkfs -Tdebian/substvars)
(cd "$STAGE" && find etc -type f | sed 's|^|/|' | sort) > "$STAGE/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 755 "$DEB/$s" "$STAGE/DEBIAN/$s"; done
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum) > "$STAGE/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$OUT" >/dev/null
echo "built $OUT"
