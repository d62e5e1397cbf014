#!/usr/bin/env bash
# Build the Linux bundle dist/Facemend/ with PyInstaller, then prove the built executable works:
# it must open a real photo, detect its faces with the real detector, render, save a
# screenshot and exit 0 (`--smoke-test`), offscreen, writing nothing inside the bundle.
#
#   packaging/build_linux.sh [PHOTO]          # default photo: ../shared/testdata/photos/family_three_print.png
#   packaging/build_linux.sh --smoke-only [PHOTO]   # test an existing dist/Facemend without rebuilding
#
# PYTHON picks the interpreter (default .venv/bin/python); FACEMEND_SHARED the folder holding
# testdata/ (default ../shared, as for the tests). The smoke test's screenshot is kept as
# build/smoke-shot.png. The bundle holds whatever torch the environment has: see
# packaging/README.md for the small CPU-only build.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$REPO/.venv/bin/python}"
TESTDATA="${FACEMEND_SHARED:-$REPO/../shared}/testdata"

BUILD=1
if [ "${1:-}" = "--smoke-only" ]; then BUILD=0; shift; fi
PHOTO="${1:-$TESTDATA/photos/family_three_print.png}"
WEIGHTS="$TESTDATA/weights/retinaface_mobilenet0.25.pth"
EXE="$REPO/dist/Facemend/Facemend"

for needed in "$PHOTO" "$WEIGHTS"; do
    if [ ! -f "$needed" ]; then
        echo "build_linux.sh: $needed not found (set FACEMEND_SHARED to the folder holding testdata/)" >&2
        exit 1
    fi
done

cd "$REPO"
if [ "$BUILD" = 1 ]; then
    started=$(date +%s)
    "$PY" -m PyInstaller --noconfirm --clean --log-level WARN build.spec
    echo "build_linux.sh: built dist/Facemend in $(( $(date +%s) - started )) s," \
        "$(du -sh dist/Facemend | cut -f1) on disk, $(find dist/Facemend -type f | wc -l) files"
fi
if [ ! -x "$EXE" ]; then
    echo "build_linux.sh: $EXE was not built" >&2
    exit 1
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# The detector weights the app looks for, as a user would have them after the first download;
# every per-user folder points into the scratch folder so the test leaves the machine as it was.
mkdir -p "$scratch/models"
ln -s "$(realpath "$WEIGHTS")" "$scratch/models/detection_mobilenet0.25_Final.pth"
touch "$scratch/before-run"

started=$(date +%s)
status=0
env QT_QPA_PLATFORM=offscreen \
    FACEMEND_MODELS="$scratch/models" \
    HOME="$scratch/home" \
    XDG_CONFIG_HOME="$scratch/config" \
    XDG_DATA_HOME="$scratch/data" \
    XDG_CACHE_HOME="$scratch/cache" \
    "$EXE" --smoke-test --screenshot "$scratch/shot.png" "$PHOTO" || status=$?
echo "build_linux.sh: smoke test exited $status after $(( $(date +%s) - started )) s"

if [ "$status" != 0 ]; then
    echo "build_linux.sh: FAILED: the built executable's smoke test exited $status" >&2
    exit 1
fi
if [ ! -s "$scratch/shot.png" ]; then
    echo "build_linux.sh: FAILED: the smoke test wrote no screenshot" >&2
    exit 1
fi
written_inside="$(find dist/Facemend -newer "$scratch/before-run" -print)"
if [ -n "$written_inside" ]; then
    echo "build_linux.sh: FAILED: the app wrote inside its bundle (models and settings belong in user folders):" >&2
    echo "$written_inside" >&2
    exit 1
fi
mkdir -p build
cp "$scratch/shot.png" build/smoke-shot.png
echo "build_linux.sh: smoke test passed; screenshot in build/smoke-shot.png"
