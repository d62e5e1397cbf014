#!/usr/bin/env bash
# Install the built Linux bundle (dist/Facemend) for one user, or system-wide, with its menu
# entry, icons and "Open with Facemend" for image types; or remove it again.
#
#   packaging/linux/install_desktop.sh                 # into ~/.local (no root needed)
#   sudo packaging/linux/install_desktop.sh --prefix /usr/local
#   packaging/linux/install_desktop.sh --uninstall [--prefix DIR]
#
# Layout under PREFIX: lib/facemend/ (the bundle), bin/facemend (a link to it),
# share/applications/org.facemend.Facemend.desktop, share/icons/hicolor/*/apps/.
# Model weights are not touched: they live in the user's data folder (~/.local/share/Facemend).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
APP_ID="org.facemend.Facemend"
PREFIX="$HOME/.local"
UNINSTALL=0
BUNDLE="$REPO/dist/Facemend"

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX="$2"; shift 2 ;;
        --bundle) BUNDLE="$2"; shift 2 ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done

LIB_DIR="$PREFIX/lib/facemend"
BIN_LINK="$PREFIX/bin/facemend"
APPS_DIR="$PREFIX/share/applications"
ICON_ROOT="$PREFIX/share/icons/hicolor"

refresh_caches() {
    # Menus and "Open with" lists read these caches; each tool is optional on a desktop.
    if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$APPS_DIR" || true; fi
    if command -v gtk-update-icon-cache >/dev/null; then gtk-update-icon-cache -q -t "$ICON_ROOT" || true; fi
}

if [ "$UNINSTALL" = 1 ]; then
    rm -rf "$LIB_DIR"
    rm -f "$BIN_LINK" "$APPS_DIR/$APP_ID.desktop"
    find "$ICON_ROOT" -name "$APP_ID.*" -delete 2>/dev/null || true
    refresh_caches
    echo "Facemend removed from $PREFIX (model weights in the user data folder are kept)"
    exit 0
fi

if [ ! -x "$BUNDLE/Facemend" ]; then
    echo "no built bundle at $BUNDLE: run packaging/build_linux.sh first" >&2
    exit 1
fi

mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$APPS_DIR"
# Copy beside the old install, then swap, so a failed copy never leaves half an app.
rm -rf "$LIB_DIR.new"
cp -a "$BUNDLE" "$LIB_DIR.new"
rm -rf "$LIB_DIR"
mv "$LIB_DIR.new" "$LIB_DIR"
ln -sfn "$LIB_DIR/Facemend" "$BIN_LINK"

# The desktop file names the executable by absolute path, so it works without PREFIX/bin on PATH.
sed -e "s|^Exec=facemend |Exec=\"$BIN_LINK\" |" -e "s|^TryExec=facemend$|TryExec=$BIN_LINK|" \
    "$REPO/resources/linux/$APP_ID.desktop" > "$APPS_DIR/$APP_ID.desktop"

for png in "$REPO"/resources/icons/facemend-*.png; do
    size="$(basename "$png" .png)"; size="${size#facemend-}"
    install -D -m 644 "$png" "$ICON_ROOT/${size}x${size}/apps/$APP_ID.png"
done
install -D -m 644 "$REPO/resources/icons/facemend.svg" "$ICON_ROOT/scalable/apps/$APP_ID.svg"

refresh_caches
echo "Facemend installed in $LIB_DIR; menu entry $APPS_DIR/$APP_ID.desktop"
