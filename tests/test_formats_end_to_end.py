"""Every format through ``restore`` with the passthrough model: the photo comes back as it was.

Upright, same size and depth, every pixel outside the face regions bit-identical (16-bit and
float included), alpha and colour profile identical, the faces themselves close to the input.
A batch of good and bad files finishes the good ones and reports the bad ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import formats
import numpy as np
import pytest
from PIL import Image
from support import psnr

from restore_core.align import estimate_warp
from restore_core.batch import MANIFEST_NAME
from restore_core.cli import main
from restore_core.io import SOFTWARE, load_image

pytestmark = pytest.mark.slow

MOBILE = ["--detector", "retinaface_mobile0.25"]
#: landmarks in the report are rounded to 0.01 px; the regions get this much slack
REGION_SLACK = 2


def _inputs(folder: Path, rgb: np.ndarray) -> dict[str, tuple[Path, str]]:
    """Input file per case, and the output extension that holds it losslessly."""
    h, w = rgb.shape[:2]
    adobe = formats.adobe_rgb_profile()
    a8, a16 = formats.alpha_ramp(h, w), formats.alpha_ramp(h, w, np.uint16)
    rgb16, grey16 = formats.deepen(rgb), formats.deepen(formats.grey(rgb))[..., None]
    scene = formats.hdr_scene(rgb)
    made: dict[str, Callable[[], Path]] = {
        "jpeg_turned_adobe": lambda: formats.write_pillow(
            folder / "turned.jpg", rgb, orientation=6, icc_profile=adobe, quality=95
        ),
        "png_alpha": lambda: formats.write_pillow(folder / "alpha.png", rgb, a8),
        "png16": lambda: formats.write_png_16bit(folder / "deep.png", rgb16),
        "png16_grey": lambda: formats.write_png_16bit(folder / "deep_grey.png", grey16[..., 0]),
        "tiff16_alpha_adobe": lambda: formats.write_tiff(folder / "deep_alpha.tif", rgb16, a16, icc=adobe),
        "tiff16_lzw": lambda: formats.write_tiff_lzw(folder / "lzw.tif", rgb16),
        "tiff_float": lambda: formats.write_tiff(folder / "float.tif", scene),
        "webp_alpha": lambda: formats.write_pillow(folder / "alpha.webp", rgb, a8, lossless=True, exact=True),
        "bmp": lambda: formats.write_pillow(folder / "photo.bmp", rgb),
        "tga_alpha": lambda: formats.write_pillow(folder / "alpha.tga", rgb, a8),
        "gif": lambda: formats.write_pillow(folder / "palette.gif", rgb),
        "heic_adobe": lambda: formats.write_heic(folder / "photo.heic", rgb, icc=adobe),
        "avif": lambda: formats.write_pillow(folder / "photo.avif", rgb, quality=95),
        "dng_turned": lambda: formats.write_dng(folder / "turned.dng", rgb, orientation=8),
        "psd16": lambda: formats.write_psd(folder / "deep.psd", rgb16),
        "exr_alpha": lambda: formats.write_exr(folder / "scene.exr", scene, a16.astype(np.float32) / 65535),
        "radiance": lambda: formats.write_radiance(folder / "scene.hdr", scene),
    }
    lossless_output = {
        "tiff16_alpha_adobe": ".tif",
        "tiff16_lzw": ".tif",
        "tiff_float": ".tif",
        "webp_alpha": ".webp",
        "dng_turned": ".tif",
        "psd16": ".tif",
        "exr_alpha": ".exr",
        "radiance": ".hdr",
    }
    return {name: (make(), lossless_output.get(name, ".png")) for name, make in made.items()}


CASES = (
    "jpeg_turned_adobe",
    "png_alpha",
    "png16",
    "png16_grey",
    "tiff16_alpha_adobe",
    "tiff16_lzw",
    "tiff_float",
    "webp_alpha",
    "bmp",
    "tga_alpha",
    "gif",
    "heic_adobe",
    "avif",
    "dng_turned",
    "psd16",
    "exr_alpha",
    "radiance",
)


@pytest.fixture(scope="module")
def upright(photos_dir: Path) -> np.ndarray:
    return formats.photo(photos_dir, long_side=None)  # full size: the detector must find both faces


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, upright: np.ndarray) -> dict[str, tuple[Path, str]]:
    made = _inputs(tmp_path_factory.mktemp("inputs"), upright)
    assert tuple(made) == CASES
    return made


def _face_regions(report: dict, height: int, width: int) -> np.ndarray:
    inside = np.zeros((height, width), dtype=bool)
    for face in report["faces"]:
        if face["selected"]:
            x0, y0, x1, y1 = estimate_warp(np.array(face["landmarks"])).region(width, height)
            inside[max(0, y0 - REGION_SLACK) : y1 + REGION_SLACK, max(0, x0 - REGION_SLACK) : x1 + REGION_SLACK] = True
    return inside


@pytest.mark.parametrize("case", CASES)
def test_every_format_comes_back_unchanged_outside_the_faces(
    models_dir: Path, inputs: dict[str, tuple[Path, str]], upright: np.ndarray, tmp_path: Path, case: str
) -> None:
    source, suffix = inputs[case]
    out, report_path = tmp_path / f"restored{suffix}", tmp_path / "report.json"
    code = main(
        [
            "restore",
            str(source),
            "-o",
            str(out),
            "--model",
            "passthrough",
            "--lossless",
            "--json",
            str(report_path),
            *MOBILE,
        ]
    )
    assert code == 0
    report = json.loads(report_path.read_text())
    before, after = load_image(source), load_image(out)

    assert (after.width, after.height) == (upright.shape[1], upright.shape[0])  # upright, same size
    assert after.pixels.dtype == before.pixels.dtype and after.pixels.shape == before.pixels.shape
    inside = _face_regions(report, before.height, before.width)
    assert sum(f["selected"] for f in report["faces"]) >= 2 and inside.any()
    np.testing.assert_array_equal(after.pixels[~inside], before.pixels[~inside])
    if before.alpha is None:
        assert after.alpha is None
    else:
        np.testing.assert_array_equal(after.alpha, before.alpha)
    assert after.icc_profile == before.icc_profile
    assert psnr(before.working_rgb8()[inside], after.working_rgb8()[inside]) >= 35  # what the models see


@pytest.mark.parametrize("case", ["png16", "tiff16_alpha_adobe"])
def test_metadata_marks_the_output(
    models_dir: Path, inputs: dict[str, tuple[Path, str]], tmp_path: Path, case: str
) -> None:
    source, suffix = inputs[case]
    out = tmp_path / f"restored{suffix}"
    assert main(["restore", str(source), "-o", str(out), "--model", "passthrough", *MOBILE]) == 0
    with Image.open(out) as written:
        assert written.getexif()[0x0131] == SOFTWARE


def test_a_batch_finishes_the_good_files_and_reports_the_bad_ones(
    models_dir: Path, inputs: dict[str, tuple[Path, str]], tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.jpg").write_bytes(b"")
    (bad / "noise.png").write_bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    data = inputs["png16"][0].read_bytes()
    (bad / "cut.png").write_bytes(data[: len(data) // 2])
    (bad / "bomb.psd").write_bytes(
        b"8BPS"
        + (1).to_bytes(2, "big")
        + b"\0" * 6
        + (3).to_bytes(2, "big")
        + (40_000).to_bytes(4, "big") * 2
        + (8).to_bytes(2, "big")
        + (3).to_bytes(2, "big")
    )
    good = [inputs[name][0] for name in ("jpeg_turned_adobe", "dng_turned", "psd16", "heic_adobe", "exr_alpha", "gif")]
    batch = [good[0], bad / "empty.jpg", *good[1:3], bad / "noise.png", bad / "cut.png", *good[3:], bad / "bomb.psd"]
    out, report_path = tmp_path / "out", tmp_path / "report.json"

    code = main(
        ["restore", *map(str, batch), "-o", str(out), "--model", "passthrough", "--json", str(report_path), *MOBILE]
    )

    assert code != 0
    report = json.loads(report_path.read_text())
    assert sorted(Path(f["input"]).name for f in report["failures"]) == [
        "bomb.psd",
        "cut.png",
        "empty.jpg",
        "noise.png",
    ]
    assert all(Path(f["input"]).name in f["error"] for f in report["failures"])
    # each good file under its own name, in a format that holds it (RAW and PSD as 16-bit TIFF, GIF as PNG)
    depths = {p.name: load_image(p).bit_depth for p in out.iterdir() if p.name != MANIFEST_NAME}
    assert depths == {
        "turned.jpg": 8,
        "turned.tif": 16,
        "deep.tif": 16,
        "photo.heic": 8,
        "scene.exr": 32,
        "palette.png": 8,
    }
