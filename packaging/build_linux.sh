#!/usr/bin/env bash
# Build the Linux bundle dist/Facemend/ with PyInstaller, then prove the built executable works:
# it must open a real photo, detect its faces with the real detector, render, save a
# screenshot and exit 0 (`--smoke-test`), offscreen, writing nothing inside the bundle.
#
#   packaging/build_linux.sh [--smoke-only] [--face-model] [PHOTO]
#
# PHOTO defaults to ../shared/testdata/photos/family_three_print.png. --smoke-only tests an
# existing dist/Facemend without rebuilding. --face-model runs the smoke test a second time with
# a random-initialised CodeFormer of the real architecture in the models folder (written by
# devtools/stand_in_models.py; a few minutes more), so the frozen app also loads and runs a face model
# (spandrel, TorchScript sources) and, where OpenVINO is installed, converts it for OpenVINO and runs
# it there (auto on a CPU); without it the app restores in passthrough.
#
# PYTHON picks the interpreter (default .venv/bin/python); FACEMEND_SHARED the folder holding
# testdata/ (default ../shared, as for the tests). Screenshots are kept as
# build/smoke-shot-detector.png (and -codeformer.png). The bundle holds whatever torch the
# environment has: see packaging/README.md for the small CPU-only build.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$REPO/.venv/bin/python}"
TESTDATA="${FACEMEND_SHARED:-$REPO/../shared}/testdata"

BUILD=1
FACE_MODEL=0
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke-only) BUILD=0; shift ;;
        --face-model) FACE_MODEL=1; shift ;;
        -*) echo "build_linux.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
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
# The detector weights the app looks for, as a user would have them after the first download.
mkdir -p "$scratch/models"
ln -s "$(realpath "$WEIGHTS")" "$scratch/models/detection_mobilenet0.25_Final.pth"

# smoke_test NAME: run the built executable's smoke test on PHOTO; every per-user folder points
# into the scratch folder, so the test leaves the machine as it was. Its output is kept in
# $scratch/NAME.log; the screenshot is kept as build/smoke-shot-NAME.png.
smoke_test() {
    local name="$1" status=0 started
    touch "$scratch/before-$name"
    started=$(date +%s)
    env QT_QPA_PLATFORM=offscreen \
        FACEMEND_MODELS="$scratch/models" \
        HOME="$scratch/home" \
        XDG_CONFIG_HOME="$scratch/config" \
        XDG_DATA_HOME="$scratch/data" \
        XDG_CACHE_HOME="$scratch/cache" \
        "$EXE" --smoke-test --screenshot "$scratch/$name.png" "$PHOTO" 2>&1 | tee "$scratch/$name.log" || status=$?
    echo "build_linux.sh: smoke test ($name) exited $status after $(( $(date +%s) - started )) s"
    if [ "$status" != 0 ]; then
        echo "build_linux.sh: FAILED: the built executable's smoke test ($name) exited $status" >&2
        exit 1
    fi
    if [ ! -s "$scratch/$name.png" ]; then
        echo "build_linux.sh: FAILED: the smoke test ($name) wrote no screenshot" >&2
        exit 1
    fi
    local written_inside
    written_inside="$(find dist/Facemend -newer "$scratch/before-$name" -print)"
    if [ -n "$written_inside" ]; then
        echo "build_linux.sh: FAILED: the app wrote inside its bundle (models and settings belong in user folders):" >&2
        echo "$written_inside" >&2
        exit 1
    fi
    mkdir -p build
    cp "$scratch/$name.png" "build/smoke-shot-$name.png"
}

smoke_test detector
if [ "$FACE_MODEL" = 1 ]; then
    "$PY" -c 'import sys; from pathlib import Path; from devtools.stand_in_models import write_random_codeformer
write_random_codeformer(Path(sys.argv[1]))' "$scratch/models/codeformer.pth"
    # CodeFormer is non-commercial: used only once its licence is accepted (recorded in the models folder)
    FACEMEND_MODELS="$scratch/models" "$PY" -c 'from restore_core.models import accept_licence; accept_licence("codeformer")'
    smoke_test codeformer
    if ! grep -qi codeformer "$scratch/codeformer.log"; then
        echo "build_linux.sh: FAILED: the smoke test did not use the CodeFormer model it was given" >&2
        exit 1
    fi
    # On a CPU, auto runs the face model on OpenVINO when it is installed (a default dependency
    # where it has wheels): the bundle must hold its runtime, and convert and run the model.
    if "$PY" -c 'import openvino' 2>/dev/null && ! grep -q "on openvino" "$scratch/codeformer.log"; then
        echo "build_linux.sh: FAILED: the bundle did not run CodeFormer on OpenVINO (is its runtime bundled?)" >&2
        exit 1
    fi
fi
echo "build_linux.sh: smoke test passed; screenshots in build/smoke-shot-*.png"
