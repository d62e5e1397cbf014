"""save_image: round trips, depth, colour profile and metadata carried, clear refusals."""

from __future__ import annotations

from pathlib import Path

import cv2
import formats
import numpy as np
import pytest
from PIL import Image

from restore_core import __version__
from restore_core.errors import OutputError, SettingsError
from restore_core.io import (
    OUTPUT_EXTENSIONS,
    SOFTWARE,
    LoadedImage,
    default_output_suffix,
    encode,
    load_image,
    save_image,
)


@pytest.fixture(scope="module")
def rgb(photos_dir: Path) -> np.ndarray:
    return formats.photo(photos_dir, long_side=160)


def _variants(rgb: np.ndarray) -> dict[str, LoadedImage]:
    h, w = rgb.shape[:2]
    grey = formats.grey(rgb)[..., None]
    return {
        "rgb8": LoadedImage(rgb),
        "rgba8": LoadedImage(rgb, formats.alpha_ramp(h, w)),
        "grey8": LoadedImage(grey),
        "grey_alpha8": LoadedImage(grey, formats.alpha_ramp(h, w)),
        "rgb16": LoadedImage(formats.deepen(rgb)),
        "rgba16": LoadedImage(formats.deepen(rgb), formats.alpha_ramp(h, w, np.uint16)),
        "grey16": LoadedImage(formats.deepen(grey[..., 0])[..., None]),
        "grey_alpha16": LoadedImage(formats.deepen(grey[..., 0])[..., None], formats.alpha_ramp(h, w, np.uint16)),
        "float": LoadedImage(formats.hdr_scene(rgb), formats.alpha_ramp(h, w, np.float32)),
        "float_grey": LoadedImage(formats.hdr_scene(grey)),
    }


LOSSLESS = [
    (".png", ["rgb8", "rgba8", "grey8", "grey_alpha8", "rgb16", "rgba16", "grey16", "grey_alpha16"]),
    (
        ".tif",
        ["rgb8", "rgba8", "grey8", "grey_alpha8", "rgb16", "rgba16", "grey16", "grey_alpha16", "float", "float_grey"],
    ),
    (".exr", ["float", "float_grey"]),
    (".webp", ["rgb8", "rgba8"]),
]


@pytest.mark.parametrize(("suffix", "variant"), [(s, v) for s, names in LOSSLESS for v in names])
def test_lossless_round_trip_is_bit_identical(tmp_path: Path, rgb: np.ndarray, suffix: str, variant: str) -> None:
    image = _variants(rgb)[variant]
    back = load_image(save_image(image, tmp_path / f"out{suffix}", lossless=True))
    assert back.pixels.dtype == image.pixels.dtype
    np.testing.assert_array_equal(back.pixels, image.pixels)
    if image.alpha is None:
        assert back.alpha is None
    else:
        np.testing.assert_array_equal(back.alpha, image.alpha)


@pytest.mark.parametrize(
    "variant", ["rgb8", "rgba8", "grey8", "grey_alpha8", "rgb16", "rgba16", "grey16", "grey_alpha16"]
)
def test_our_png_reads_the_same_in_libpng(tmp_path: Path, rgb: np.ndarray, variant: str) -> None:
    """The PNG writer is ours: OpenCV's libpng must read exactly what we meant."""
    image = _variants(rgb)[variant]
    path = save_image(image, tmp_path / "out.png")
    decoded = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    expected = image.pixels if image.alpha is None else np.dstack([image.pixels, image.alpha])
    if decoded.ndim == 2:
        decoded = decoded[..., None]
    if expected.shape[2] >= 3:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGBA if expected.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    elif expected.shape[2] == 2:  # OpenCV expands grey+alpha to BGRA
        decoded = decoded[..., [0, 3]]
    np.testing.assert_array_equal(decoded.reshape(expected.shape), expected)


def test_radiance_round_trip(tmp_path: Path, rgb: np.ndarray) -> None:
    scene = formats.hdr_scene(rgb)
    once = load_image(save_image(LoadedImage(scene), tmp_path / "a.hdr"))
    twice = load_image(save_image(once, tmp_path / "b.hdr"))
    np.testing.assert_array_equal(twice.pixels, once.pixels)  # RGBE values survive RGBE exactly
    assert np.all(np.abs(once.pixels - scene) <= 0.01 * scene.max(axis=2, keepdims=True) + 1e-6)


@pytest.mark.parametrize("suffix", [".jpg", ".webp", ".heic", ".avif"])
def test_lossy_formats_stay_close(tmp_path: Path, rgb: np.ndarray, suffix: str) -> None:
    back = load_image(save_image(LoadedImage(rgb), tmp_path / f"out{suffix}", quality=95))
    assert back.pixels.shape == rgb.shape
    assert np.abs(back.pixels.astype(int) - rgb).mean() < 4


def test_jpeg_quality_is_applied(tmp_path: Path, rgb: np.ndarray) -> None:
    low = save_image(LoadedImage(rgb), tmp_path / "low.jpg", quality=30)
    high = save_image(LoadedImage(rgb), tmp_path / "high.jpg", quality=95)
    assert low.stat().st_size < high.stat().st_size * 0.6


def test_webp_lossless_option(tmp_path: Path, rgb: np.ndarray) -> None:
    lossy = load_image(save_image(LoadedImage(rgb), tmp_path / "lossy.webp", quality=80))
    lossless = load_image(save_image(LoadedImage(rgb), tmp_path / "lossless.webp", lossless=True))
    assert not np.array_equal(lossy.pixels, rgb)
    np.testing.assert_array_equal(lossless.pixels, rgb)


def test_16bit_to_8bit_rounds(tmp_path: Path) -> None:
    values = np.arange(0, 65536, 7, dtype=np.uint16)[: 90 * 90].reshape(90, 90, 1)
    back = load_image(save_image(LoadedImage(values), tmp_path / "grey.jpg", quality=100))
    # lossless WebP has no grey, JPEG at 100 is within a step; check the rounding rule exactly on RGB WebP
    assert np.abs(back.pixels.astype(int) - np.rint(values / 257.0)).max() <= 2
    rgb16 = np.repeat(values, 3, axis=2)
    exact = load_image(save_image(LoadedImage(rgb16), tmp_path / "rgb.webp", lossless=True))
    np.testing.assert_array_equal(exact.pixels, np.floor(rgb16 / 257.0 + 0.5).astype(np.uint8))


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg", ".webp", ".heic", ".avif"])
def test_icc_profile_is_embedded(tmp_path: Path, rgb: np.ndarray, suffix: str) -> None:
    profile = formats.adobe_rgb_profile()
    back = load_image(save_image(LoadedImage(rgb, icc_profile=profile), tmp_path / f"out{suffix}"))
    assert back.icc_profile == profile


def _read_exif(path: Path) -> tuple[Image.Exif, dict[int, object], dict[int, object]]:
    """IFD0, the EXIF IFD and the GPS IFD, as written (HEIC through our reader: Pillow has no HEIC)."""
    if path.suffix == ".heic":
        exif = Image.Exif()
        exif.load(load_image(path).exif or b"")
        return exif, exif.get_ifd(0x8769), exif.get_ifd(0x8825)
    with Image.open(path) as image:
        exif = image.getexif()
        assert not exif.get_ifd(Image.ExifTags.IFD.IFD1)
        return exif, exif.get_ifd(0x8769), exif.get_ifd(0x8825)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg", ".webp", ".heic", ".avif"])
def test_exif_is_carried_upright_with_software_and_size(tmp_path: Path, rgb: np.ndarray, suffix: str) -> None:
    source = formats.write_pillow(
        tmp_path / "in.jpg", rgb, exif=formats.exif_bytes(orientation=6, thumbnail=True), quality=95
    )
    image = load_image(source)
    out = save_image(image, tmp_path / f"out{suffix}")

    exif, sub, gps = _read_exif(out)
    assert exif[0x0131] == SOFTWARE == f"Facemend {__version__}"
    assert exif.get(0x0112, 1) == 1  # Pillow's AVIF writer leaves out an orientation of 1
    assert exif[0x010F] == "FacemendTestCam"
    assert sub[0x9003] == "2001:02:03 04:05:06"
    assert (sub[0xA002], sub[0xA003]) == (image.width, image.height)
    assert gps[1] == "N"


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg", ".webp"])
def test_software_tag_without_input_exif(tmp_path: Path, rgb: np.ndarray, suffix: str) -> None:
    out = save_image(LoadedImage(rgb), tmp_path / f"out{suffix}")
    with Image.open(out) as image:
        assert image.getexif()[0x0131] == SOFTWARE


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg", ".webp"])
def test_xmp_is_carried(tmp_path: Path, rgb: np.ndarray, suffix: str) -> None:
    xmp = formats.XMP.replace(b'tiff:Orientation="6"', b'tiff:Orientation="1"')
    out = save_image(LoadedImage(rgb, xmp=xmp), tmp_path / f"out{suffix}")
    assert load_image(out).xmp == xmp


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_iptc_is_carried(tmp_path: Path, rgb: np.ndarray, suffix: str) -> None:
    out = save_image(LoadedImage(rgb, iptc=formats.iptc_bytes()), tmp_path / f"out{suffix}")
    assert load_image(out).iptc == formats.iptc_bytes()


def test_hdr_to_8_and_16_bit_formats_is_tone_mapped_srgb(tmp_path: Path, rgb: np.ndarray) -> None:
    image = LoadedImage(formats.hdr_scene(rgb))
    jpeg = load_image(save_image(image, tmp_path / "out.jpg", quality=100))
    png = load_image(save_image(image, tmp_path / "out.png"))
    assert png.bit_depth == 16 and jpeg.bit_depth == 8
    assert formats.is_srgb(jpeg.icc_profile) and formats.is_srgb(png.icc_profile)
    assert np.abs(jpeg.pixels.astype(int) - image.working_rgb8()).mean() < 1.5
    assert np.abs(png.pixels / 257.0 - image.working_rgb8()).max() <= 0.5 + 1e-6


def test_grey_with_profile_to_an_rgb_only_format_is_converted_to_srgb(tmp_path: Path, rgb: np.ndarray) -> None:
    grey = LoadedImage(formats.grey(rgb)[..., None], icc_profile=formats.grey_gamma_profile(1.8))
    back = load_image(save_image(grey, tmp_path / "out.webp", lossless=True))
    assert formats.is_srgb(back.icc_profile)
    np.testing.assert_array_equal(back.pixels, grey.working_rgb8())
    same_grey = load_image(save_image(grey, tmp_path / "out.png"))
    assert same_grey.is_gray and same_grey.icc_profile == grey.icc_profile


@pytest.mark.parametrize(
    ("suffix", "shape", "reason"),
    [
        (".webp", (2, 16384, 3), "at most 16383 pixels per side"),
        (".jpg", (65501, 2, 1), "at most 65500 pixels per side"),
    ],
)
def test_sizes_a_format_cannot_hold_are_refused(
    tmp_path: Path, suffix: str, shape: tuple[int, int, int], reason: str
) -> None:
    with pytest.raises(OutputError, match=reason):
        save_image(LoadedImage(np.zeros(shape, np.uint8)), tmp_path / f"big{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_the_largest_webp_is_written(tmp_path: Path) -> None:
    out = save_image(LoadedImage(np.zeros((2, 16383, 3), np.uint8)), tmp_path / "wide.webp", lossless=True)
    assert load_image(out).width == 16383


@pytest.mark.parametrize(
    ("variant", "suffix", "reason"),
    [
        ("rgb8", ".gif", "cannot write .gif"),
        ("rgb8", "", "cannot write a file without extension"),
        ("rgb16", ".exr", "EXR stores floating-point HDR images; this one is 16-bit"),
        ("rgba8", ".jpg", "JPEG cannot hold transparency"),
        ("float", ".hdr", "Radiance HDR cannot hold transparency"),
    ],
)
def test_unwritable_requests_are_refused(
    tmp_path: Path, rgb: np.ndarray, variant: str, suffix: str, reason: str
) -> None:
    with pytest.raises(OutputError, match=reason):
        save_image(_variants(rgb)[variant], tmp_path / f"out{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_missing_encoder_is_a_clear_error(tmp_path: Path, rgb: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    without_heic = {ext: fmt for ext, fmt in encode._BY_EXTENSION.items() if fmt.name != "HEIC"}
    monkeypatch.setattr(encode, "_BY_EXTENSION", without_heic)
    with pytest.raises(OutputError, match="no HEIC encoder is installed"):
        save_image(LoadedImage(rgb), tmp_path / "out.heic")


def test_quality_out_of_range(tmp_path: Path, rgb: np.ndarray) -> None:
    with pytest.raises(SettingsError):
        save_image(LoadedImage(rgb), tmp_path / "out.jpg", quality=0)


def test_output_extensions() -> None:
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".exr", ".heic"} <= OUTPUT_EXTENSIONS


@pytest.mark.parametrize(
    ("name", "variant", "expected"),
    [
        ("a.jpg", "rgb8", ".jpg"),
        ("a.JPG", "rgb8", ".jpg"),
        ("a.png", "rgba16", ".png"),
        ("a.jpg", "rgba8", ".png"),
        ("a.psd", "rgb16", ".tif"),
        ("a.dng", "rgb16", ".tif"),
        ("a.gif", "rgb8", ".png"),
        ("a.webp", "rgb16", ".tif"),
        ("a.exr", "float", ".exr"),
        ("a.tif", "float", ".tif"),
        ("a.hdr", "float", ".exr"),
    ],
)
def test_default_output_suffix(rgb: np.ndarray, name: str, variant: str, expected: str) -> None:
    image = _variants(rgb)[variant]
    import dataclasses

    assert default_output_suffix(dataclasses.replace(image, path=Path(name))) == expected
