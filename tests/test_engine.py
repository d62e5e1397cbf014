"""The render engine redoes only what a change affects, and its shortcuts give exact pixels."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from restore_core.engine import RenderEngine
from restore_core.params import DetectionSettings, FaceSettings, GrainSettings, Settings

MOBILE = DetectionSettings(detector="retinaface_mobile0.25")


def _engine(photo: Path) -> RenderEngine:
    engine = RenderEngine(device="cpu")
    engine.open(photo)
    engine.detect(MOBILE)
    return engine


@pytest.fixture()
def photo(photos_dir: Path) -> Path:
    return photos_dir / "collage_two_faces.jpg"


def test_strength_and_grain_changes_call_no_model_and_creativity_runs_the_decoder_only(
    face_models_dir: Path, photo: Path
) -> None:
    engine = _engine(photo)
    settings = Settings(detection=MOBILE, face=FaceSettings(model="codeformer", creativity=0.3), faces=(0,))
    first = engine.render(settings)
    assert engine.model_calls == 2  # encoder + decoder

    weaker = engine.render(dataclasses.replace(settings, face=dataclasses.replace(settings.face, strength=0.4)))
    grained = engine.render(dataclasses.replace(settings, grain=GrainSettings(enabled=True, strength=1.0)))
    assert engine.model_calls == 2
    assert not np.array_equal(first.rgb8, weaker.rgb8)
    assert not np.array_equal(first.rgb8, grained.rgb8)

    creative = dataclasses.replace(settings, face=dataclasses.replace(settings.face, creativity=0.9))
    cached = engine.render(creative)
    assert engine.model_calls == 3  # decoder only
    fresh = _engine(photo).render(creative)
    np.testing.assert_array_equal(cached.rgb8, fresh.rgb8)


def test_a_creativity_move_is_answered_from_the_nearest_cached_level_then_exactly(
    face_models_dir: Path, photo: Path
) -> None:
    engine = _engine(photo)
    settings = Settings(detection=MOBILE, face=FaceSettings(model="codeformer", creativity=0.0), faces=(1,))
    exact_low = engine.render(settings)
    calls = engine.model_calls
    moved = dataclasses.replace(settings, face=dataclasses.replace(settings.face, creativity=0.2))
    preview = engine.render(moved, allow_preview=True)
    assert preview.preview and engine.model_calls == calls
    np.testing.assert_array_equal(preview.rgb8, exact_low.rgb8)
    exact = engine.render(moved, allow_preview=True)  # nothing cached at 0.2 yet -> preview again
    assert exact.preview
    exact = engine.render(moved)
    assert not exact.preview and engine.model_calls == calls + 1


def test_unselected_faces_and_the_background_keep_their_pixels(models_dir: Path, photos_dir: Path) -> None:
    engine = _engine(photos_dir / "family_three_print.png")
    assert len(engine.faces) == 3
    settings = Settings(
        detection=MOBILE,
        face=FaceSettings(model="passthrough"),
        grain=GrainSettings(enabled=True, strength=1.0),
        faces=(1,),
    )
    result = engine.render(settings)
    original = engine.original_rgb8()
    changed = np.any(result.rgb8 != original, axis=2)
    x0, y0, x1, y1 = engine.aligned(1).warp.region(engine.image.width, engine.image.height)
    inside = np.zeros_like(changed)
    inside[y0:y1, x0:x1] = True
    assert changed[inside].any() and not changed[~inside].any()
    assert [f.selected for f in result.faces] == [False, True, False]
    assert result.faces[1].restored_thumb is not None and result.faces[0].restored_thumb is None


def test_a_viewport_region_renders_the_same_pixels_as_the_full_image(models_dir: Path, photos_dir: Path) -> None:
    engine = _engine(photos_dir / "family_three_print.png")
    settings = Settings(
        detection=MOBILE,
        face=FaceSettings(model="passthrough"),
        grain=GrainSettings(enabled=True, strength=1.0, scope="image"),
    )
    full = engine.render(settings)
    region = (150, 90, 480, 260)
    part = engine.render(settings, region=region)
    np.testing.assert_array_equal(part.rgb8, full.rgb8[90:260, 150:480])
    half = engine.render(settings, scale=0.5)
    assert half.rgb8.shape == (round(engine.image.height / 2), round(engine.image.width / 2), 3)


def test_output_scale_doubles_both_sides_and_keeps_dtype(models_dir: Path, photos_dir: Path) -> None:
    engine = _engine(photos_dir / "collage_two_faces.jpg")
    settings = Settings(detection=MOBILE, face=FaceSettings(model="passthrough"))
    out = engine.render_output(dataclasses.replace(settings, output=dataclasses.replace(settings.output, scale=2.0)))
    assert (out.width, out.height) == (2 * engine.image.width, 2 * engine.image.height)
    assert out.pixels.dtype == engine.image.pixels.dtype


def test_passthrough_ignores_creativity_but_honours_explicit_preconditioning(models_dir: Path, photo: Path) -> None:
    engine = _engine(photo)
    plain = Settings(detection=MOBILE, face=FaceSettings(model="passthrough", creativity=0.0))
    creative = dataclasses.replace(plain, face=dataclasses.replace(plain.face, creativity=1.0))
    blurred = dataclasses.replace(plain, face=dataclasses.replace(plain.face, precondition=True, blur_sigma=2.0))
    np.testing.assert_array_equal(engine.render(creative).rgb8, engine.render(plain).rgb8)
    assert not np.array_equal(engine.render(blurred).rgb8, engine.render(plain).rgb8)


def test_a_render_region_is_clipped_to_the_image(models_dir: Path, photo: Path) -> None:
    engine = _engine(photo)
    width, height = engine.image.width, engine.image.height
    settings = Settings(detection=MOBILE, face=FaceSettings(model="passthrough"))
    beyond = engine.render(settings, region=(width - 100, height - 50, width + 400, height + 300))
    assert beyond.region == (width - 100, height - 50, width, height) and beyond.rgb8.shape == (50, 100, 3)
    with pytest.raises(ValueError, match="outside"):
        engine.render(settings, region=(width + 10, 0, width + 20, 10))
