"""Faces blended through their parsed face classes: hair and background keep the photo's pixels."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from restore_core.compose import parsed_skin_mask
from restore_core.engine import RenderEngine, _to_rgb8
from restore_core.params import DetectionSettings, FaceSettings, Settings
from restore_core.reference import match_face_color

MOBILE = DetectionSettings(detector="retinaface_mobile0.25")
PHOTO = "two_children_film.jpg"


def _engine(photo: Path) -> RenderEngine:
    engine = RenderEngine(device="cpu")
    engine.open(photo)
    engine.detect(MOBILE)
    return engine


def _settings(mask: str) -> Settings:
    return Settings(detection=MOBILE, face=FaceSettings(model="gfpgan", mask=mask))


def _weight(engine: RenderEngine, index: int, kind: str) -> np.ndarray:
    """Face ``index``'s blend weight over the whole image (0 outside its region)."""
    image = engine.image
    warp = engine.aligned(index).warp
    region = warp.region(image.width, image.height)
    full = np.zeros((image.height, image.width), np.float32)
    x0, y0, x1, y1 = region
    full[y0:y1, x0:x1] = warp.to_region(engine.blend_mask(index, kind), region)
    return full


def test_hair_and_background_outside_the_parsed_face_keep_their_pixels(
    parsing_models_dir: Path, photos_dir: Path
) -> None:
    engine = _engine(photos_dir / PHOTO)
    assert len(engine.faces) == 2
    original = engine.original_rgb8()
    parsed = engine.render(_settings("parsing"))
    assert [f.mask for f in parsed.faces] == ["parsing", "parsing"]
    assert engine.mask_note is None
    assert engine.timings["parse"] > 0

    changed = np.any(parsed.rgb8 != original, axis=2)
    weights = [_weight(engine, i, "parsing") for i in range(2)]
    # Outside the parsed faces (under 1/510 of weight no 8-bit value can move) every pixel is the
    # photo's, even inside the box.
    assert not changed[np.max(weights, axis=0) < 1 / 510].any()
    for index in range(2):
        box = _weight(engine, index, "box")
        assert ((box > 0.5) & (weights[index] < 1 / 510)).any(), "the parse keeps part of the box"
        assert changed[weights[index] > 0.9].mean() > 0.9  # where the parse says face, the restored face shows
        # Inside the box: nothing reaches the crop's edge.
        assert engine.blend_mask(index, "parsing")[engine.blend_mask(index, "box") == 0].max() == 0

    # The colour statistics took the parsed skin: the final face is the model's, matched through it.
    for index in range(2):
        images = engine.face_images(index, _settings("parsing"))
        assert images.mask_kind == "parsing" and images.tone == "colour"
        skin = parsed_skin_mask(engine.face_parse(index))
        assert skin is not None
        rgb = [np.divide(x, np.float32(255), dtype=np.float32) for x in (images.model_rgb8, images.aligned_rgb8)]
        np.testing.assert_array_equal(images.final_rgb8, _to_rgb8(match_face_color(*rgb, skin=skin)))
        assert not np.array_equal(images.final_rgb8, _to_rgb8(match_face_color(*rgb)))

    # mask=box with ParseNet installed is the squircle paste exactly as an engine without ParseNet.
    boxed = engine.render(_settings("box"))
    assert [f.mask for f in boxed.faces] == ["box", "box"]
    change = [np.abs(x.astype(np.int16) - original).sum() for x in (parsed.rgb8, boxed.rgb8)]
    assert change[0] < 0.8 * change[1], change  # the parse keeps much of what the box replaces
    first_only = dataclasses.replace(_settings("box"), faces=(0,))
    boxed = engine.render(first_only)
    (parsing_models_dir / "parsing_parsenet.pth").unlink()
    without = _engine(photos_dir / PHOTO)
    fallback = without.render(dataclasses.replace(first_only, face=_settings("parsing").face))
    assert [f.mask for f in fallback.faces] == ["box", None]
    assert without.mask_note is not None and "models download parsenet" in without.mask_note
    assert without.mask_note in fallback.notes
    np.testing.assert_array_equal(boxed.rgb8, fallback.rgb8)


def test_per_face_masks_and_the_report(parsing_models_dir: Path, photos_dir: Path) -> None:
    from restore_core.pipeline import Pipeline

    settings = dataclasses.replace(_settings("parsing"), faces=(1,)).with_override(1, mask="box")
    pipeline = Pipeline(settings, allow_download=False)
    engine = pipeline.engine
    engine.open(photos_dir / PHOTO)
    engine.detect(MOBILE)
    render = engine.render(settings)
    assert [f.mask for f in render.faces] == [None, "box"]
    assert "parse" not in engine.timings  # no face asked for the parse: ParseNet never ran
    reports = pipeline.face_reports(engine.faces)
    assert [r.to_json()["mask"] for r in reports] == [None, "box"]
    # The app's overlay: the paste-back weight over the rendered pixels, nothing where it is 0.
    overlay = engine.mask_overlay(settings, render)
    assert overlay.shape == render.rgb8.shape[:2] and overlay.max() > 0.99
    changed = np.any(render.rgb8 != engine.original_rgb8(), axis=2)
    assert changed.any() and not changed[overlay <= 0].any()
    x0, y0, x1, y1 = engine.aligned(1).warp.region(engine.image.width, engine.image.height)
    assert not overlay[:, :x0].any() and not overlay[:y0].any()
    view = engine.render(settings, region=(x0, y0, x1, y1), scale=0.5)
    assert engine.mask_overlay(settings, view).shape == view.rgb8.shape[:2]
