"""load_image on every format, generated from the shared photos by independent encoders."""

from __future__ import annotations

import shutil
from pathlib import Path

import formats
import numpy as np
import pytest
from PIL import Image

from restore_core.io import INPUT_EXTENSIONS, LoadedImage, image_size, load_image


@pytest.fixture(scope="module")
def source(photos_dir: Path) -> np.ndarray:
    return formats.photo(photos_dir)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory, source: np.ndarray) -> dict[str, formats.Sample]:
    made = formats.catalogue(tmp_path_factory.mktemp("formats"), source)
    assert tuple(made) == formats.SAMPLE_NAMES
    return made


def _exif(image: LoadedImage) -> Image.Exif:
    exif = Image.Exif()
    assert image.exif is not None
    exif.load(image.exif)
    return exif


@pytest.mark.parametrize("name", formats.SAMPLE_NAMES)
def test_every_format_decodes_to_its_pixels(samples: dict[str, formats.Sample], name: str) -> None:
    sample = samples[name]
    image = load_image(sample.path)

    assert image.format == sample.format
    assert image.path == sample.path
    assert image.pixels.shape == sample.pixels.shape
    assert image.pixels.dtype == sample.pixels.dtype
    if sample.tolerance is None:
        np.testing.assert_array_equal(image.pixels, sample.pixels)
    elif image.is_hdr:
        # shared-exponent formats (RGBE) are precise relative to the brightest channel of a pixel
        brightest = sample.pixels.max(axis=2, keepdims=True)
        assert np.all(np.abs(image.pixels - sample.pixels) <= sample.tolerance * brightest + 1e-6)
    else:
        assert np.abs(image.pixels.astype(np.float64) - sample.pixels).mean() <= sample.tolerance
    if sample.alpha is None:
        assert image.alpha is None
    else:
        assert image.alpha is not None and image.alpha.dtype == image.pixels.dtype
        np.testing.assert_array_equal(image.alpha, sample.alpha)
    assert sample.path.suffix.lower() in INPUT_EXTENSIONS


@pytest.mark.parametrize("name", formats.SAMPLE_NAMES)
def test_image_size_reads_the_header_only(samples: dict[str, formats.Sample], name: str) -> None:
    sample = samples[name]
    assert image_size(sample.path) == (sample.pixels.shape[1], sample.pixels.shape[0])


def test_decoded_arrays_are_read_only(samples: dict[str, formats.Sample]) -> None:
    image = load_image(samples["png_alpha"].path)
    assert not image.pixels.flags.writeable
    assert image.alpha is not None and not image.alpha.flags.writeable
    with pytest.raises(ValueError):
        image.pixels[0, 0, 0] = 1


def test_jpeg_metadata_is_kept_upright_and_without_thumbnail(samples: dict[str, formats.Sample]) -> None:
    image = load_image(samples["jpeg"].path)

    assert image.icc_profile == formats.adobe_rgb_profile()
    exif = _exif(image)
    assert exif[0x010F] == "FacemendTestCam"
    assert exif[0x0112] == 1
    assert exif.get_ifd(0x8769)[0x9003] == "2001:02:03 04:05:06"
    assert exif.get_ifd(0x8825)[1] == "N"
    assert not exif.get_ifd(Image.ExifTags.IFD.IFD1), "the thumbnail shows the unrestored photo: it must go"
    assert 0x0201 not in exif
    assert image.xmp is not None and b"<dc:title>Facemend test</dc:title>" in image.xmp
    assert b'tiff:Orientation="1"' in image.xmp
    assert image.iptc == formats.iptc_bytes()


def test_tiff_metadata(samples: dict[str, formats.Sample]) -> None:
    image = load_image(samples["tiff"].path)
    assert image.icc_profile == formats.adobe_rgb_profile()
    assert image.xmp is not None and b"Facemend test" in image.xmp
    assert image.iptc == formats.iptc_bytes()
    grey = load_image(samples["tiff16_grey"].path)
    assert grey.icc_profile == formats.grey_gamma_profile()


def test_heic_and_webp_carry_exif(samples: dict[str, formats.Sample]) -> None:
    for name in ("heic", "webp"):
        exif = _exif(load_image(samples[name].path))
        assert exif[0x0110] == "Model 1"
        assert exif[0x0112] == 1


def test_dng_is_developed_to_16_bit_with_its_camera_exif(samples: dict[str, formats.Sample]) -> None:
    image = load_image(samples["dng"].path)
    assert image.bit_depth == 16 and not image.is_gray
    # a white-balanced development: no channel drifts away from the photo's colour
    channel_means = image.pixels.reshape(-1, 3).mean(axis=0) / 257
    np.testing.assert_allclose(channel_means, samples["dng"].pixels.reshape(-1, 3).mean(axis=0) / 257, atol=8)
    assert _exif(image)[0x010F] == "FacemendTestCam"


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("tiff_pages", "TIFF with 3 pages: only the first is used"),
        ("gif", "GIF with several frames: only the first is used"),
        ("psd", "layered PSD: the merged image is used"),
        ("tiff_cmyk", "CMYK converted to sRGB"),
    ],
)
def test_decoding_notes(samples: dict[str, formats.Sample], name: str, note: str) -> None:
    assert note in load_image(samples[name].path).notes


def test_single_image_files_have_no_notes(samples: dict[str, formats.Sample]) -> None:
    for name in ("jpeg", "png16", "tiff16", "heic", "exr"):
        assert load_image(samples[name].path).notes == ()


@pytest.mark.parametrize(
    ("name", "suffix"), [("png", ".jpg"), ("jpeg", ".png"), ("tiff16", ".webp"), ("heic", ".jpg"), ("exr", ".tif")]
)
def test_mislabelled_files_decode_by_content(
    samples: dict[str, formats.Sample], tmp_path: Path, name: str, suffix: str
) -> None:
    sample = samples[name]
    renamed = tmp_path / f"mislabelled{suffix}"
    shutil.copyfile(sample.path, renamed)
    image = load_image(renamed)
    assert image.format == sample.format
    np.testing.assert_array_equal(image.pixels, load_image(sample.path).pixels)


def test_damaged_exif_does_not_cost_the_photo(tmp_path: Path, source: np.ndarray) -> None:
    path = formats.write_pillow(tmp_path / "damaged.jpg", source, exif=formats.exif_with_dangling_pointer(), quality=95)
    with pytest.warns(UserWarning, match="Corrupt EXIF"):
        image = load_image(path)
    assert image.pixels.shape == source.shape
    assert _exif(image)[0x010F] == "FacemendTestCam"  # what could be read is kept


def test_unusable_colour_profile_is_dropped_with_a_note(tmp_path: Path, source: np.ndarray) -> None:
    # an RGB profile on a grey PNG: it cannot describe these pixels
    path = formats.write_pillow(tmp_path / "grey.png", formats.grey(source), icc_profile=formats.adobe_rgb_profile())
    image = load_image(path)
    assert image.icc_profile is None
    assert any("colour profile" in note for note in image.notes)


def test_16bit_grey_alpha_png_from_our_writer_decodes(tmp_path: Path, source: np.ndarray) -> None:
    """Grey+alpha at 16 bits: no independent encoder here writes it, so decode checks our own file by value."""
    grey16 = formats.deepen(formats.grey(source))[..., None]
    alpha16 = formats.alpha_ramp(*grey16.shape[:2], np.uint16)
    from restore_core.io import save_image

    path = save_image(LoadedImage(grey16, alpha16), tmp_path / "ga16.png")
    image = load_image(path)
    np.testing.assert_array_equal(image.pixels, grey16)
    np.testing.assert_array_equal(image.alpha, alpha16)
