"""Crowds in the engine: each face reported as it finishes, kept through cancels and re-detections."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest

from restore_core.engine import ProgressEvent, RenderEngine
from restore_core.errors import CancelledError
from restore_core.params import DetectionSettings, FaceSettings, GrainSettings, Settings

MOBILE = DetectionSettings(detector="retinaface_mobile0.25")


@pytest.fixture()
def family(photos_dir: Path) -> Path:
    return photos_dir / "family_three_print.png"


def _engine(photo: Path, detection: DetectionSettings = MOBILE) -> RenderEngine:
    engine = RenderEngine(device="cpu")
    engine.open(photo)
    engine.detect(detection)
    return engine


def _face_events(events: list[ProgressEvent]) -> list[ProgressEvent]:
    return [e for e in events if e.face is not None]


def test_each_face_is_reported_with_its_pixels_as_it_finishes(models_dir: Path, family: Path) -> None:
    engine = _engine(family)
    # Passthrough gives the faces back as they were: the faces' grain shows where they are pasted.
    settings = Settings(
        detection=MOBILE, face=FaceSettings(model="passthrough", mask="box"), grain=GrainSettings(enabled=True)
    )
    events: list[ProgressEvent] = []
    region = (40, 30, 760, 1100)
    result = engine.render(settings, events.append, region=region, scale=0.5)
    done = _face_events(events)
    assert [(e.stage, e.done, e.total) for e in done] == [("restore", n, 3) for n in (1, 2, 3)]
    assert sorted(e.face.index for e in done if e.face) == [0, 1, 2]
    original = result.original_rgb8
    assert original is not None
    for event in done:
        face = event.face
        assert face is not None and face.region is not None and face.patch is not None
        assert face.render.restored_thumb is not None and face.render.model == "passthrough"
        assert face.seconds_left >= 0
        x0, y0, x1, y1 = face.region
        assert face.patch.shape == (y1 - y0, x1 - x0, 3) and not face.patch.flags.writeable
        # The patch is the view with the face pasted: in the result's pixels, not the original's.
        assert np.any(face.patch != original[y0:y1, x0:x1])
    last = done[-1].face
    assert last is not None and last.seconds_left == 0 and last.region is not None
    x0, y0, x1, y1 = last.region
    np.testing.assert_array_equal(last.patch, result.rgb8[y0:y1, x0:x1])  # nothing pasted after it


def test_a_cancelled_job_keeps_its_finished_faces_and_a_slider_move_restores_only_the_rest(
    face_models_dir: Path, family: Path
) -> None:
    engine = _engine(family)
    settings = Settings(detection=MOBILE, face=FaceSettings(model="gfpgan", mask="box"))
    cancel = threading.Event()

    def stop_after_the_first_face(event: ProgressEvent) -> None:
        if event.face is not None:
            cancel.set()

    with pytest.raises(CancelledError):
        engine.render(settings, stop_after_the_first_face, cancel)
    assert engine.model_calls == 1

    weaker = dataclasses.replace(settings, face=dataclasses.replace(settings.face, strength=0.6))
    events: list[ProgressEvent] = []
    result = engine.render(weaker, events.append)
    assert engine.model_calls == 3  # the two faces not done before the cancel
    assert [(e.done, e.total) for e in _face_events(events)] == [(1, 2), (2, 2)]
    fresh = _engine(family).render(weaker)
    np.testing.assert_array_equal(result.rgb8, fresh.rgb8)


def test_a_new_detection_restores_only_the_faces_it_adds(models_dir: Path, family: Path) -> None:
    engine = _engine(family)
    settings = Settings(detection=MOBILE, face=FaceSettings(model="passthrough", mask="box"))
    first = engine.render(settings)
    sensitive = dataclasses.replace(MOBILE, sensitivity=0.9)
    faces = engine.detect(sensitive)
    assert len(faces) == 4 and {f.face.landmarks for f in first.faces} < {f.landmarks for f in faces}

    events: list[ProgressEvent] = []
    result = engine.render(dataclasses.replace(settings, detection=sensitive), events.append)
    added = [i for i, f in enumerate(faces) if f.landmarks not in {r.face.landmarks for r in first.faces}]
    assert [e.face.index for e in _face_events(events) if e.face] == added
    fresh = _engine(family, sensitive).render(dataclasses.replace(settings, detection=sensitive))
    np.testing.assert_array_equal(result.rgb8, fresh.rgb8)


def test_an_output_job_reports_faces_without_view_pixels(models_dir: Path, family: Path) -> None:
    engine = _engine(family)
    events: list[ProgressEvent] = []
    engine.render_output(Settings(detection=MOBILE, face=FaceSettings(model="passthrough")), events.append)
    done = [e.face for e in _face_events(events)]
    assert len(done) == 3 and all(f is not None and f.patch is None and f.region is None for f in done)
