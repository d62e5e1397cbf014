"""PhotoSession, the app's Qt-free state: opening (and failing to), faces followed across
re-detection and undo, unexported edits."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from app.components import Detection, ImageRef, PhotoSession
from restore_core.faces import DetectedFace, landmarks_from_box
from restore_core.params import DetectionSettings, FaceOverride, Settings

LOOSE = DetectionSettings(sensitivity=0.9)


def _face(x: float) -> DetectedFace:
    box = (x, 10.0, x + 50.0, 70.0)
    return DetectedFace(box, 0.9, landmarks_from_box(box))


def _open(session: PhotoSession, name: str, *faces: DetectedFace) -> ImageRef:
    image = session.begin_open(Path(name))
    assert session.opened(image, ".jpg")
    assert session.detected(Detection(image, session.settings.detection, faces))
    return image


def _strength(session: PhotoSession, value: float) -> None:
    s = session.settings
    session.history.push(dataclasses.replace(s, face=dataclasses.replace(s.face, strength=value)), "strength")


def _events(session: PhotoSession) -> list[tuple]:
    seen: list[tuple] = []
    session.faces_changed.connect(lambda faces, s: seen.append(("faces", len(faces), s.faces)))
    session.settings_changed.connect(lambda s, origin: seen.append(("settings", origin, s.faces)))
    return seen


def test_a_photo_opens_with_the_settings_but_not_the_face_choices_of_the_last() -> None:
    session = PhotoSession(Settings(faces=(1,), overrides=((1, FaceOverride(strength=0.1)),)))
    seen = _events(session)
    image = session.begin_open(Path("a.jpg"))
    assert session.image == image and session.settings.faces is None and not session.settings.overrides
    assert session.history.current.faces == (1,)  # untouched until the photo has decoded
    assert not session.opened(ImageRef(image.id + 1, Path("other.jpg")), ".png")  # not the one opening
    assert session.opened(image, ".tif")
    assert session.history.current.faces is None and session.export_suffix == ".tif"
    assert not session.has_unexported_edits  # opening is no edit
    assert seen == [("settings", "reset", None)]
    faces = (_face(0), _face(100))
    assert not session.detected(Detection(ImageRef(99, Path("x.jpg")), LOOSE, faces))  # another photo's
    assert session.detected(Detection(image, session.settings.detection, faces))
    assert session.faces == faces and seen[-1] == ("faces", 2, None)


def test_faces_drawn_or_removed_by_hand_stay_with_their_photo() -> None:
    corrected = dataclasses.replace(LOOSE, added=((5.0, 5.0, 60.0, 70.0),), removed=((100.0, 10.0, 150.0, 70.0),))
    session = PhotoSession(Settings(detection=corrected))
    image = session.begin_open(Path("b.jpg"))
    assert session.opened(image, ".jpg")
    assert session.settings.detection == LOOSE  # the sensitivity stays, the corrections go


def test_a_failed_open_keeps_the_photo_its_faces_settings_history_and_result() -> None:
    session = PhotoSession(Settings())
    first = _open(session, "a.jpg", _face(0), _face(100))
    session.history.push(dataclasses.replace(session.settings, faces=(0,)), "", "Exclude face 2")
    _strength(session, 0.6)
    result = object()
    session.last_result = result  # type: ignore[assignment]
    before = (session.settings, session.history.count, session.faces)
    failed = session.begin_open(Path("broken.jpg"))
    second = session.begin_open(Path("broken2.jpg"))  # a second open before the first decoded
    assert session.faces == () and session.last_result is None
    assert session.open_failed() == second != failed
    assert session.image == first and session.last_result is result
    assert (session.settings, session.history.count, session.faces) == before
    assert session.has_unexported_edits  # nothing was marked as saved
    # the faces are the photo's again: a re-detection still remaps the choices
    moved = (_face(102), _face(2))
    session.detected(Detection(first, LOOSE, moved))
    assert session.settings.faces == (1,)


def test_choices_follow_the_faces_across_a_redetection_and_its_undo() -> None:
    session = PhotoSession(Settings())
    image = _open(session, "a.jpg", _face(0), _face(100), _face(200))
    session.history.push(dataclasses.replace(session.settings, faces=(0, 2)), "", "Exclude face 2")
    seen = _events(session)
    # a new detection: the face list changes first, then the choices are carried over (no step)
    session.history.push(dataclasses.replace(session.settings, detection=LOOSE), "sensitivity")
    session.detected(Detection(image, LOOSE, (_face(300), _face(201), _face(1))))
    assert session.settings.faces == (1, 2) and session.history.count == 2
    assert seen == [("settings", "edit", (0, 2)), ("faces", 3, (0, 2)), ("settings", "amend", (1, 2))]
    # undo: back to the first detection's faces and indices; redo: to the second's, amended
    session.history.undo()
    assert session.faces[1].box[0] == 100 and session.settings.faces == (0, 2)
    session.history.redo()
    assert session.faces[0].box[0] == 300 and session.settings.faces == (1, 2)


def test_exporting_the_current_settings_saves_them() -> None:
    session = PhotoSession(Settings())
    assert not session.has_unexported_edits  # no photo
    _open(session, "a.jpg", _face(0))
    _strength(session, 0.4)
    exported = session.settings
    _strength(session, 0.3)
    session.exported(exported)  # an older state: still unsaved
    assert session.has_unexported_edits
    session.exported(None)  # a comparison or a report only
    assert session.has_unexported_edits
    session.exported(session.settings)
    assert not session.has_unexported_edits


def test_only_models_with_a_licence_notice_newly_used_are_asked_about() -> None:
    session = PhotoSession(Settings())
    s = session.settings
    codeformer = dataclasses.replace(s, face=dataclasses.replace(s.face, model="codeformer"))
    assert [spec.name for spec in session.models_newly_used(codeformer)] == ["codeformer"]
    assert session.models_newly_used(s) == []
    session.history.push(codeformer)
    assert session.models_newly_used(codeformer.with_override(0, model="codeformer")) == []


def test_model_notes_are_said_once_and_never_the_photos_own() -> None:
    session = PhotoSession(Settings())
    session.photo_notes = ("converted from 16-bit",)
    assert session.unseen_model_notes(("converted from 16-bit", "model a is not the published file")) == [
        "model a is not the published file"
    ]
    assert session.unseen_model_notes(("model a is not the published file",)) == []
    assert session.unseen_model_notes(("model b is not the published file",)) == ["model b is not the published file"]
