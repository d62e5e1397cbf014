#!/usr/bin/env bash
# Turn the built Linux bundle (dist/Facemend) into an AppImage: one file people download,
# mark executable and double-click.
#
#   packaging/linux/build_appimage.sh            # -> build/Facemend.AppDir, dist/Facemend-<version>-x86_64.AppImage
#
# Needs appimagetool (https://github.com/AppImage/appimagetool, a single executable: put it on
# PATH or point APPIMAGETOOL at it). Without it the script stops after assembling the AppDir,
# which runs as it is: build/Facemend.AppDir/AppRun photo.jpg.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${PYTHON:-$REPO/.venv/bin/python}"
APP_ID="org.facemend.Facemend"
BUNDLE="$REPO/dist/Facemend"
APPDIR="$REPO/build/Facemend.AppDir"
ARCH="$(uname -m)"
VERSION="$(cd "$REPO" && "$PY" -c 'import restore_core; print(restore_core.__version__)')"

if [ ! -x "$BUNDLE/Facemend" ]; then
    echo "no built bundle at $BUNDLE: run packaging/build_linux.sh first" >&2
    exit 1
fi

rm -rf "$APPDIR"
mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/share/applications"
cp -a "$BUNDLE" "$APPDIR/usr/lib/facemend"

# AppRun: the AppImage runtime starts it with APPDIR set; it runs from anywhere as well.
cat > "$APPDIR/AppRun" <<'APPRUN'
#!/bin/sh
HERE="${APPDIR:-$(dirname "$(readlink -f "$0")")}"
exec "$HERE/usr/lib/facemend/Facemend" "$@"
APPRUN
chmod +x "$APPDIR/AppRun"

# appimagetool wants the desktop file and the icon at the top; desktop integration tools
# (appimaged, AppImageLauncher) copy them out and point Exec at the AppImage.
sed -e '/^TryExec=/d' "$REPO/resources/linux/$APP_ID.desktop" > "$APPDIR/$APP_ID.desktop"
cp "$APPDIR/$APP_ID.desktop" "$APPDIR/usr/share/applications/"
cp "$REPO/resources/icons/facemend-256.png" "$APPDIR/$APP_ID.png"
ln -sfn "$APP_ID.png" "$APPDIR/.DirIcon"
for png in "$REPO"/resources/icons/facemend-*.png; do
    size="$(basename "$png" .png)"; size="${size#facemend-}"
    install -D -m 644 "$png" "$APPDIR/usr/share/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
done

TOOL="${APPIMAGETOOL:-$(command -v appimagetool || true)}"
if [ -z "$TOOL" ]; then
    echo "AppDir ready at $APPDIR; appimagetool not found (set APPIMAGETOOL), so no .AppImage was made"
    exit 0
fi
OUT="$REPO/dist/Facemend-$VERSION-$ARCH.AppImage"
# zstd: several times faster to start than the default gzip for a multi-GB torch bundle.
ARCH="$ARCH" "$TOOL" --comp zstd --no-appstream "$APPDIR" "$OUT"
echo "built $OUT"
