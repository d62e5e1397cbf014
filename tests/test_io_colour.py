"""The working-space conversion: colour profiles, grey, 16-bit and HDR, and their inverse."""

from __future__ import annotations

import dataclasses
import io
import tracemalloc
from pathlib import Path

import formats
import numpy as np
import pytest
from PIL import Image, ImageCms

from restore_core.io import LoadedImage, _convert, _icc


@pytest.fixture(scope="module")
def rgb(photos_dir: Path) -> np.ndarray:
    return formats.photo(photos_dir, long_side=200)


def _lcms(rgb8: np.ndarray, profile: bytes, mode: str = "RGB") -> np.ndarray:
    """LittleCMS's conversion of 8-bit pixels in ``profile`` to sRGB: the reference."""
    image = Image.fromarray(rgb8 if mode == "RGB" else rgb8[..., 0], mode)
    converted = ImageCms.profileToProfile(
        image,
        io.BytesIO(profile),
        ImageCms.createProfile("sRGB"),
        outputMode="RGB",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )
    return np.asarray(converted)


def test_srgb_data_is_passed_through_without_a_copy(rgb: np.ndarray) -> None:
    for profile in (None, formats.srgb_profile_from_lcms()):
        image = LoadedImage(rgb, icc_profile=profile)
        working = image.working_rgb8()
        assert np.shares_memory(working, image.pixels)
        assert not working.flags.writeable
        np.testing.assert_array_equal(image.to_native(working / np.float32(255)), rgb)


def test_16bit_working_is_rounded_and_inverse_is_exact_for_8bit_values() -> None:
    values = np.arange(65536, dtype=np.uint16).reshape(256, 256, 1).repeat(3, axis=2)
    image = LoadedImage(values)
    np.testing.assert_array_equal(image.working_rgb8(), np.floor(values / 257.0 + 0.5).astype(np.uint8))
    assert image.native_max() == 65535.0
    back = image.to_native(image.working_rgb8() / np.float32(255))
    np.testing.assert_allclose(back, image.working_rgb8().astype(np.float32) * 257, atol=1e-2)


def test_adobe_rgb_matches_littlecms(rgb: np.ndarray) -> None:
    profile = formats.adobe_rgb_profile()
    image = LoadedImage(rgb, icc_profile=profile)
    assert isinstance(image._converter.profile, _icc.MatrixProfile)
    assert np.abs(image.working_rgb8().astype(int) - _lcms(rgb, profile)).max() <= 1


def test_adobe_rgb_inverse_is_exact_in_gamut(rgb: np.ndarray) -> None:
    image = LoadedImage(formats.deepen(rgb), icc_profile=formats.adobe_rgb_profile())
    converter = image._converter
    working = converter.to_working(image.pixels)
    back = converter.to_native(working)
    # Adobe RGB reaches beyond sRGB: clipped colours cannot come back, every other one must
    inside = np.all((working > 1e-4) & (working < 1 - 1e-4), axis=2)
    assert inside.mean() > 0.5
    assert np.abs(back - image.pixels)[inside].max() < 1.0  # under one 16-bit step


def test_littlecms_fallback_agrees_with_the_exact_path(rgb: np.ndarray) -> None:
    profile = formats.adobe_rgb_profile()
    exact = _convert.Converter.for_image(np.dtype(np.uint8), 3, profile)
    fallback = dataclasses.replace(exact, profile=_icc._cms_profile(profile, "RGB"))
    assert isinstance(fallback.profile, _icc.CmsProfile)
    assert np.abs(fallback.to_display(rgb).astype(int) - exact.to_display(rgb)).max() <= 2
    patch = exact.to_working(rgb)
    difference = np.abs(fallback.to_native(patch) - exact.to_native(patch))
    assert difference.mean() < 0.5 and difference.max() <= 5.0  # 8-bit LittleCMS, twice quantised in the darks


def test_grey_profile(rgb: np.ndarray) -> None:
    grey = formats.grey(rgb)[..., None]
    profile = formats.grey_gamma_profile(1.8)
    image = LoadedImage(grey, icc_profile=profile)
    working = image.working_rgb8()
    assert working.shape == (*grey.shape[:2], 3)
    assert np.abs(working.astype(int) - _lcms(grey, profile, "L")).max() <= 1
    back = image.to_native(image._converter.to_working(grey))
    assert back.shape == grey.shape
    assert np.abs(back - grey).max() < 0.01


def test_grey_without_profile_is_repeated_and_colour_comes_back_as_luminance(rgb: np.ndarray) -> None:
    grey = formats.grey(rgb)[..., None]
    image = LoadedImage(grey)
    np.testing.assert_array_equal(image.working_rgb8(), np.repeat(grey, 3, axis=2))
    np.testing.assert_allclose(image.to_native(image.working_rgb8() / np.float32(255)), grey, atol=1e-3)
    pure = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]], np.float32)
    luminance = image.to_native(pure)[0, :, 0] / 255
    # linear-light luminance of sRGB red, green, blue, encoded back to sRGB
    np.testing.assert_allclose(luminance, [0.5, 0.87, 0.29], atol=0.02)


def test_hdr_tone_map_inverse_is_exact(rgb: np.ndarray) -> None:
    scene = formats.hdr_scene(rgb)
    image = LoadedImage(scene)
    tone = image.tone_map
    assert tone is not None and tone.exposure > 0 and tone.white >= 1
    converter = image._converter
    back = converter.to_native(converter.to_working(scene))
    below_white = scene * tone.exposure < tone.white * 0.999
    np.testing.assert_allclose(back[below_white], scene[below_white], rtol=2e-4, atol=1e-6)
    assert image.working_rgb8().dtype == np.uint8 and image.working_rgb8().max() == 255


def test_tone_map_is_monotonic_and_reaches_white() -> None:
    tone = _convert.ToneMap(exposure=0.5, white=6.0)
    x = np.linspace(0, 20, 2001, dtype=np.float32)
    y = tone.forward(x)
    assert np.all(np.diff(y) >= 0) and y[0] == 0
    assert y[x * 0.5 >= 6.0].min() == pytest.approx(1.0)
    np.testing.assert_allclose(tone.inverse(tone.forward(x[x < 11.9])), x[x < 11.9], rtol=1e-4, atol=1e-6)


def test_with_pixels_keeps_the_tone_map(rgb: np.ndarray) -> None:
    image = LoadedImage(formats.hdr_scene(rgb))
    darker = image.with_pixels(image.pixels * np.float32(0.1))
    assert darker.tone_map == image.tone_map


def test_whole_image_conversion_memory_is_bounded() -> None:
    """16-bit with a profile goes through float in bands: peak memory is the 8-bit result plus bands."""
    pixels = np.random.default_rng(0).integers(0, 65535, (2000, 3000, 3), dtype=np.uint16)
    image = LoadedImage(pixels, icc_profile=formats.adobe_rgb_profile())
    tracemalloc.start()
    image.working_rgb8()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = pixels.size  # bytes of the uint8 output
    one_float_copy = pixels.size * 4
    assert peak - result < one_float_copy / 2, f"peak {peak / 1e6:.0f} MB for a {result / 1e6:.0f} MB result"
