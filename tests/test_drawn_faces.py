"""Faces drawn by hand where the detector missed them, and detected faces removed as not faces
(``DetectionSettings.added`` / ``removed``), with the real RetinaFace on a real photo."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from restore_core.detect import FaceDetector
from restore_core.detect.drawn import DRAWN_SCORE
from restore_core.engine import RenderEngine
from restore_core.errors import SettingsError
from restore_core.faces import DetectedFace, box_iou, landmarks_from_box
from restore_core.params import DetectionSettings, FaceSettings, Settings

MOBILE = DetectionSettings(detector="retinaface_mobile0.25")
PHOTO = "two_children_film.jpg"


@pytest.fixture()
def engine(models_dir: Path, photos_dir: Path) -> RenderEngine:
    engine = RenderEngine(device="cpu")
    engine.open(photos_dir / PHOTO)
    return engine


@pytest.fixture()
def detector_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The image size of every detector pass."""
    calls: list[tuple[int, int]] = []
    original = FaceDetector.detect

    def counted(self: FaceDetector, rgb8: np.ndarray, settings: DetectionSettings) -> list[DetectedFace]:
        calls.append(rgb8.shape[:2])
        return original(self, rgb8, settings)

    monkeypatch.setattr(FaceDetector, "detect", counted)
    return calls


def _grown(box: tuple[float, ...], by: float) -> tuple[float, float, float, float]:
    """``box`` drawn a little loosely: ``by`` of its side more on every edge, a bit off centre."""
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1)
    return (x1 - by * side, y1 - by * side * 0.5, x2 + by * side * 1.5, y2 + by * side)


def test_a_removed_face_is_left_out_without_running_the_detector_again(
    engine: RenderEngine, detector_calls: list[tuple[int, int]]
) -> None:
    found = engine.detect(MOBILE)
    assert len(found) == 2
    passes = len(detector_calls)
    corrected = engine.detect(dataclasses.replace(MOBILE, removed=(found[0].box,)))
    assert corrected == [found[1]]
    assert len(detector_calls) == passes  # the detector's faces are cached by what it was asked
    # a sensitivity change runs the detector again, and the removal still holds
    more = engine.detect(dataclasses.replace(MOBILE, sensitivity=0.9, removed=(found[0].box,)))
    assert len(detector_calls) > passes
    assert all(box_iou(face.box, found[0].box) < 0.5 for face in more)
    assert found[1] in more


def test_a_drawn_face_gets_the_landmarks_the_detector_finds_when_it_looks_closely(
    engine: RenderEngine, detector_calls: list[tuple[int, int]]
) -> None:
    found = engine.detect(MOBILE)
    small = min(found, key=lambda f: f.size)
    # The detector misses it when asked for bigger faces only; the user draws a loose box there.
    missed = dataclasses.replace(MOBILE, min_face=int(small.size) + 1)
    assert small not in engine.detect(missed)
    drawn_box = _grown(small.box, 0.12)
    faces = engine.detect(dataclasses.replace(missed, added=(drawn_box,)))
    drawn = next(f for f in faces if f.box == drawn_box)
    assert drawn.score == DRAWN_SCORE
    assert len(faces) == len(found)  # the other face is still there, sorted in as usual
    assert [f.center[0] for f in faces] == sorted(f.center[0] for f in faces)
    # the landmarks are those of the face in the box (the crop was looked at on its own) ...
    assert detector_calls[-1][0] <= 250 and detector_calls[-1][1] <= 250
    error = np.abs(drawn.landmarks_array() - small.landmarks_array()).max()
    assert error < 0.06 * small.size, error
    # ... and much closer than the average face's placement in the drawn box
    guessed = np.abs(np.asarray(landmarks_from_box(drawn_box)) - small.landmarks_array()).max()
    assert error < guessed / 2, (error, guessed)


def test_a_box_drawn_where_no_face_is_gets_the_average_faces_landmarks(engine: RenderEngine) -> None:
    found = engine.detect(MOBILE)
    empty = (20.0, 20.0, 140.0, 160.0)  # the photo's top left corner: no face there
    assert all(box_iou(f.box, empty) == 0 for f in found)
    faces = engine.detect(dataclasses.replace(MOBILE, added=(empty,)))
    drawn = next(f for f in faces if f.box == empty)
    assert drawn.landmarks == landmarks_from_box(empty)
    assert len(faces) == len(found) + 1


def test_a_box_drawn_over_a_detected_face_replaces_it(engine: RenderEngine) -> None:
    found = engine.detect(MOBILE)
    over = _grown(found[1].box, 0.05)
    faces = engine.detect(dataclasses.replace(MOBILE, added=(over,)))
    assert len(faces) == 2 and faces[0] == found[0] and faces[1].box == over


def test_a_render_restores_a_drawn_face(engine: RenderEngine, face_models_dir: Path) -> None:
    found = engine.detect(MOBILE)
    small = min(found, key=lambda f: f.size)
    missed = dataclasses.replace(MOBILE, min_face=int(small.size) + 1)
    box = _grown(small.box, 0.1)
    # the stand-in GFPGAN's face (coloured noise) differs from the photo all over the box
    face = FaceSettings(model="gfpgan", mask="box")
    without = _render(engine, Settings(detection=missed, face=face, backend="torch"))
    with_drawn = _render(
        engine, Settings(detection=dataclasses.replace(missed, added=(box,)), face=face, backend="torch")
    )
    x1, y1, x2, y2 = (round(v) for v in small.box)
    changed = np.any(without != with_drawn, axis=2)
    assert changed[y1:y2, x1:x2].mean() > 0.5  # the drawn face was restored
    # ... and nothing else: the changes lie within the aligned crop around it (the box and as
    # much again on every side)
    side = round(max(box[2] - box[0], box[3] - box[1]))
    around = np.zeros_like(changed)
    around[max(0, round(box[1]) - side) : round(box[3]) + side, max(0, round(box[0]) - side) : round(box[2]) + side] = (
        True
    )
    assert changed[~around].sum() == 0


def _render(engine: RenderEngine, settings: Settings) -> np.ndarray:
    engine.detect(settings.detection)
    return engine.render(settings).rgb8


def test_corrections_round_trip_through_json_and_stay_with_their_photo() -> None:
    detection = DetectionSettings(added=[[1, 2, 30, 40.5]], removed=((5, 5, 50, 60),))  # type: ignore[arg-type]
    assert detection.added == ((1.0, 2.0, 30.0, 40.5),)
    settings = Settings(detection=detection, faces=(0,))
    assert Settings.from_json(settings.to_json()) == settings
    hash(settings)  # still a cache key
    other = settings.for_another_photo()
    assert other.detection == DetectionSettings() and other.faces is None
    assert other.detection.for_detector is other.detection


@pytest.mark.parametrize(
    ("boxes", "says"),
    [
        ([[1, 2, 3]], "four pixel positions"),
        ([[5, 5, 1, 1]], "x2 > x1"),
        ("everywhere", "list of boxes"),
        ([[1, 2, float("nan"), 4]], "four pixel positions"),
        ([[True, 1, 5, 5]], "four pixel positions"),
        ([[0, 0, 5, 5]] * 10_001, "at most 10000"),
    ],
)
def test_a_bad_box_is_one_clear_settings_error(boxes: object, says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        Settings.from_json({"detection": {"added": boxes}})
