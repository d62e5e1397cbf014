"""EXIF orientation: all eight, in every format that carries one, decode upright."""

from __future__ import annotations

from pathlib import Path

import formats
import numpy as np
import pytest
from PIL import Image, ImageOps

from restore_core.io import image_size, load_image, save_image
from restore_core.io.metadata import apply_orientation

ORIENTATIONS = range(1, 9)


@pytest.fixture(scope="module")
def upright(photos_dir: Path) -> np.ndarray:
    # not square, so a missing or extra quarter turn changes the shape
    return formats.photo(photos_dir, long_side=96)


def _exif_orientation(image_exif: bytes | None) -> int:
    exif = Image.Exif()
    exif.load(image_exif or b"")
    return exif.get(0x0112, 1)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_apply_orientation_matches_pillow(upright: np.ndarray, orientation: int) -> None:
    stored = formats.store_oriented(upright, orientation)
    np.testing.assert_array_equal(apply_orientation(stored, orientation), formats.display_oriented(stored, orientation))
    np.testing.assert_array_equal(apply_orientation(stored, orientation), upright)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize(("suffix", "params"), [(".png", {}), (".webp", {"lossless": True}), (".tif", {})])
def test_lossless_formats_decode_upright(
    tmp_path: Path, upright: np.ndarray, orientation: int, suffix: str, params: dict
) -> None:
    alpha = formats.alpha_ramp(*upright.shape[:2])
    if suffix == ".tif":
        path = formats.write_tiff(tmp_path / f"o{orientation}.tif", upright, alpha, orientation=orientation)
    else:
        path = formats.write_pillow(
            tmp_path / f"o{orientation}{suffix}", upright, alpha, orientation=orientation, exact=True, **params
        )
    image = load_image(path)
    np.testing.assert_array_equal(image.pixels, upright)
    np.testing.assert_array_equal(image.alpha, alpha)
    assert image_size(path) == (upright.shape[1], upright.shape[0])
    assert _exif_orientation(image.exif) == 1


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_jpeg_decodes_as_pillow_displays_it(tmp_path: Path, upright: np.ndarray, orientation: int) -> None:
    path = formats.write_pillow(tmp_path / f"o{orientation}.jpg", upright, orientation=orientation, quality=95)
    image = load_image(path)
    np.testing.assert_array_equal(image.pixels, np.asarray(ImageOps.exif_transpose(Image.open(path))))
    assert np.abs(image.pixels.astype(int) - upright).mean() < 5


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_16bit_tiff_decodes_upright(tmp_path: Path, upright: np.ndarray, orientation: int) -> None:
    deep = formats.deepen(upright)
    image = load_image(formats.write_tiff(tmp_path / "deep.tif", deep, orientation=orientation))
    np.testing.assert_array_equal(image.pixels, deep)


@pytest.mark.parametrize("orientation", [6, 7])
def test_heic_is_upright(tmp_path: Path, upright: np.ndarray, orientation: int) -> None:
    """libheif turns the image itself; the stale EXIF orientation must not turn it again."""
    image = load_image(formats.write_heic(tmp_path / "o.heic", upright, orientation=orientation))
    assert image.pixels.shape == upright.shape
    assert np.abs(image.pixels.astype(int) - upright).mean() < 4
    assert _exif_orientation(image.exif) == 1


@pytest.mark.parametrize("orientation", [6, 3])
def test_avif_is_upright(tmp_path: Path, upright: np.ndarray, orientation: int) -> None:
    path = formats.write_pillow(tmp_path / "o.avif", upright, orientation=orientation, quality=95)
    image = load_image(path)
    assert image.pixels.shape == upright.shape
    assert np.abs(image.pixels.astype(int) - upright).mean() < 4


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_dng_is_upright(tmp_path: Path, upright: np.ndarray, orientation: int) -> None:
    path = formats.write_dng(tmp_path / "o.dng", upright, orientation=orientation)
    image = load_image(path)
    assert image.pixels.shape == upright.shape
    developed = image.pixels.astype(np.float64) / 257
    # a developed RAW is only close to the photo: it must be closest to the upright one
    candidates = {
        "upright": upright,
        "mirrored": upright[:, ::-1],
        "flipped": upright[::-1],
        "turned": upright[::-1, ::-1],
    }
    errors = {name: np.abs(developed - pixels).mean() for name, pixels in candidates.items()}
    assert min(errors, key=errors.__getitem__) == "upright"
    assert errors["upright"] < 12
    assert image_size(path) == (upright.shape[1], upright.shape[0])


def test_xmp_orientation_is_reset(tmp_path: Path, upright: np.ndarray) -> None:
    path = formats.write_pillow(tmp_path / "xmp.jpg", upright, orientation=6, xmp=formats.XMP)
    image = load_image(path)
    assert image.xmp is not None
    assert b'tiff:Orientation="1"' in image.xmp and b'tiff:Orientation="6"' not in image.xmp


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp"])
def test_output_is_written_upright_with_orientation_1(tmp_path: Path, upright: np.ndarray, suffix: str) -> None:
    image = load_image(formats.write_pillow(tmp_path / "in.jpg", upright, orientation=8, quality=95))
    out = save_image(image, tmp_path / f"out{suffix}")
    with Image.open(out) as written:
        assert written.size == (upright.shape[1], upright.shape[0])
        assert written.getexif()[0x0112] == 1
        np.testing.assert_array_equal(np.asarray(ImageOps.exif_transpose(written)).shape, upright.shape)
