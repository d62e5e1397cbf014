#!/usr/bin/env bash
# Build Facemend for macOS: dist/Facemend.app (PyInstaller), a smoke test of the app's
# executable, then dist/Facemend-<version>-<arch>.dmg with the usual drag-to-Applications window.
#
#   packaging/macos/build_macos.sh
#
# Signing happens only when an identity is given; without one the app is ad-hoc signed
# (it runs on the build Mac; elsewhere Gatekeeper asks the user to allow it):
#   FACEMEND_CODESIGN_IDENTITY="Developer ID Application: Name (TEAMID)"  sign app and .dmg
#   FACEMEND_NOTARY_PROFILE=profile   also notarise and staple (a profile stored earlier with
#                                     `xcrun notarytool store-credentials profile ...`)
# PYTHON picks the interpreter (default .venv/bin/python); FACEMEND_SHARED the folder holding
# testdata/ for the smoke test (default ../shared; skipped without it).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${PYTHON:-$REPO/.venv/bin/python}"
IDENTITY="${FACEMEND_CODESIGN_IDENTITY:-}"
cd "$REPO"

VERSION="$("$PY" -c 'import restore_core; print(restore_core.__version__)')"
ARCH="$(uname -m)"
APP="dist/Facemend.app"
DMG="dist/Facemend-$VERSION-$ARCH.dmg"

if [ -n "$IDENTITY" ]; then
    # build.spec hands these to PyInstaller, which signs every binary with the hardened runtime.
    export FACEMEND_ENTITLEMENTS="$REPO/packaging/macos/entitlements.plist"
fi
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN build.spec

TESTDATA="${FACEMEND_SHARED:-$REPO/../shared}/testdata"
if [ -f "$TESTDATA/weights/retinaface_mobilenet0.25.pth" ]; then
    scratch="$(mktemp -d)"
    mkdir "$scratch/models"
    ln -s "$TESTDATA/weights/retinaface_mobilenet0.25.pth" "$scratch/models/detection_mobilenet0.25_Final.pth"
    QT_QPA_PLATFORM=offscreen FACEMEND_MODELS="$scratch/models" \
        "$APP/Contents/MacOS/Facemend" --smoke-test --screenshot "$scratch/shot.png" \
        "$TESTDATA/photos/family_three_print.png"
    test -s "$scratch/shot.png"
    mkdir -p build && cp "$scratch/shot.png" build/smoke-shot.png
    rm -rf "$scratch"
    echo "smoke test passed; screenshot in build/smoke-shot.png"
else
    echo "no test data at $TESTDATA: smoke test skipped" >&2
fi

if [ -n "$IDENTITY" ]; then
    codesign --verify --deep --strict --verbose=2 "$APP"
fi

# The disk image: the app and a link to /Applications, compressed with LZMA (macOS 10.15+).
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp -R "$APP" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$DMG"
hdiutil create -volname "Facemend $VERSION" -srcfolder "$staging" -fs HFS+ -format ULMO -ov "$DMG"

if [ -n "$IDENTITY" ]; then
    codesign --sign "$IDENTITY" --timestamp "$DMG"
    if [ -n "${FACEMEND_NOTARY_PROFILE:-}" ]; then
        xcrun notarytool submit "$DMG" --keychain-profile "$FACEMEND_NOTARY_PROFILE" --wait
        xcrun stapler staple "$DMG"
    fi
fi
echo "built $DMG"
