"""Film grain: seeded, region-independent, monochrome or colour, sized, tone-dependent."""

from __future__ import annotations

import numpy as np
import pytest

from restore_core.compose import add_grain, add_image_grain, grain_noise
from restore_core.params import GrainSettings

MODELS = ["silver", "gaussian", "grey"]


def settings(**changes: object) -> GrainSettings:
    base = {"enabled": True, "model": "silver", "density": 0.6, "size": 1.5, "strength": 0.8, "seed": 1234}
    return GrainSettings(**{**base, **changes})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def photo_like() -> np.ndarray:
    """A mid-tone RGB uint8 image with structure, values 60..190 (no clipping by grain)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:180, 0:260]
    base = 125 + 50 * np.sin(x / 17.0)[..., None] * np.cos(y / 23.0)[..., None] * np.array([1.0, 0.8, 0.6])
    return np.clip(base + rng.normal(0, 5, base.shape), 60, 190).astype(np.uint8)


@pytest.mark.parametrize("model", MODELS)
def test_same_seed_same_pixels_other_seed_other_pixels(model, photo_like) -> None:
    first = add_grain(photo_like, settings(model=model))
    again = add_grain(photo_like, settings(model=model))
    other = add_grain(photo_like, settings(model=model, seed=1235))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, photo_like)
    assert np.mean(first != other) > 0.3
    assert first.dtype == photo_like.dtype and first.shape == photo_like.shape


@pytest.mark.parametrize("model", MODELS)
def test_monochrome_models_add_the_same_noise_to_every_channel(model, photo_like) -> None:
    added = add_grain(photo_like, settings(model=model)).astype(int) - photo_like
    same = np.all(added == added[..., :1], axis=2)
    if model == "gaussian":
        assert same.mean() < 0.5
    else:
        assert same.all()


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("size", [1.0, 5.0])
def test_a_region_gets_the_pixels_of_the_full_render(model, size, photo_like) -> None:
    grain = settings(model=model, size=size)
    full = add_grain(photo_like, grain)
    for x0, y0, x1, y1 in ((37, 21, 151, 170), (64, 64, 128, 128), (200, 3, 260, 9), (0, 0, 1, 1)):
        part = add_grain(photo_like[y0:y1, x0:x1], grain, origin=(x0, y0))
        assert np.array_equal(part, full[y0:y1, x0:x1]), (x0, y0, x1, y1)


def test_image_grain_in_strips_equals_one_pass_and_viewports(photo_like) -> None:
    grain = settings(model="silver", size=3.0, scope="image")
    whole = photo_like.copy()
    add_image_grain(whole, grain, rows=37)
    assert np.array_equal(whole, add_grain(photo_like, grain))
    viewport = photo_like[50:120, 90:200].copy()
    add_image_grain(viewport, grain, origin=(90, 50))
    assert np.array_equal(viewport, whole[50:120, 90:200])


def test_image_grain_only_when_enabled_for_the_image(photo_like) -> None:
    for grain in (settings(scope="faces"), settings(scope="image", enabled=False)):
        canvas = photo_like.copy()
        add_image_grain(canvas, grain)
        assert np.array_equal(canvas, photo_like)


@pytest.mark.parametrize("model", MODELS)
def test_grey_images_stay_single_channel(model) -> None:
    grey = np.full((64, 80, 1), 30000, dtype=np.uint16)
    out = add_grain(grey, settings(model=model))
    assert out.shape == (64, 80, 1) and out.dtype == np.uint16
    assert out.std() > 100


def autocorrelation(noise: np.ndarray, lag: int) -> float:
    a = noise - noise.mean()
    return float((a[:, :-lag] * a[:, lag:]).mean() / a.var())


@pytest.mark.parametrize("model", MODELS)
def test_larger_grain_is_correlated_over_more_pixels(model) -> None:
    noises = [grain_noise(settings(model=model, size=s), (0, 0, 256, 256), 3)[..., 0] for s in (1, 3, 5)]
    lag2 = [autocorrelation(noise, 2) for noise in noises]
    assert lag2[0] < lag2[1] < lag2[2], lag2
    assert lag2[2] > 0.3
    if model != "silver":  # independent pixels at size 1
        assert abs(lag2[0]) < 0.05


@pytest.mark.parametrize("model", MODELS)
def test_density_and_strength_make_grain_stronger(model) -> None:
    flat = np.full((128, 128, 3), 128, dtype=np.uint8)

    def spread(**changes: object) -> float:
        return float(add_grain(flat, settings(model=model, **changes)).astype(float).std())

    assert spread(density=0.1) < spread(density=0.5) < spread(density=1.0)
    assert spread(strength=0.2) < spread(strength=0.6) < spread(strength=1.0)
    assert spread(strength=0.0) == 0.0 and spread(density=0.0) == 0.0


def test_silver_grain_is_strongest_in_mid_tones() -> None:
    grain = settings(model="silver", strength=1.0, density=1.0)

    def spread(level: int) -> float:
        return float(add_grain(np.full((128, 128, 3), level, dtype=np.uint8), grain).astype(float).std())

    dark, mid, light = spread(25), spread(128), spread(230)
    assert mid > 2 * dark and mid > 2 * light


def test_mask_scales_grain_and_float_images_work() -> None:
    image = np.full((64, 64, 3), 0.5, dtype=np.float32)
    mask = np.zeros((64, 64), dtype=np.float32)
    mask[:, 32:] = 1.0
    out = add_grain(image, settings(model="gaussian"), mask=mask)
    assert out.dtype == np.float32
    assert np.array_equal(out[:, :32], image[:, :32])
    assert out[:, 32:].std() > 0.01
