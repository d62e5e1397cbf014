"""The Qt-free face selection helpers and the undo history of settings."""

from __future__ import annotations

import dataclasses

from app.history import SettingsHistory
from app.selection import remap_faces, select_none, set_selected
from restore_core.faces import DetectedFace, landmarks_from_box
from restore_core.params import FaceOverride, Settings


def _face(x: float) -> DetectedFace:
    box = (x, 10.0, x + 50.0, 70.0)
    return DetectedFace(box, 0.9, landmarks_from_box(box))


def test_selection_of_all_is_none_and_toggles_round_trip() -> None:
    s = Settings()
    s = set_selected(s, 1, False, 3)
    assert s.faces == (0, 2)
    assert set_selected(s, 1, True, 3).faces is None
    assert select_none(s).faces == ()


def test_remap_follows_faces_across_a_redetection() -> None:
    old = [_face(0), _face(100), _face(200)]
    new = [_face(98), _face(300), _face(2)]  # face 1 -> 0, face 0 -> 2, face 2 lost, one new
    s = Settings(faces=(0, 1), overrides=((1, FaceOverride(strength=0.2)), (2, FaceOverride(strength=0.9))))
    moved = remap_faces(s, old, new)
    assert moved.faces == (0, 2)
    assert moved.overrides == ((0, FaceOverride(strength=0.2)),)


def test_history_merges_a_drag_and_seals_it(qtbot) -> None:
    history = SettingsHistory(Settings())
    seen: list[str] = []
    history.changed.connect(lambda _s, origin: seen.append(origin))
    base = history.current
    for v in (0.9, 0.8, 0.7):
        history.push(dataclasses.replace(base, face=dataclasses.replace(base.face, strength=v)), "strength")
    assert history.stack.count() == 1
    history.seal()
    history.push(
        dataclasses.replace(history.current, face=dataclasses.replace(history.current.face, strength=0.5)), "strength"
    )
    assert history.stack.count() == 2
    history.stack.undo()
    assert history.current.face.strength == 0.7
    history.stack.undo()
    assert history.current == base
    assert seen == ["edit", "edit", "edit", "edit", "undo", "undo"]

    # amend corrects the state that redo returns to
    history.stack.redo()
    fixed = dataclasses.replace(history.current, faces=(0,))
    history.amend(fixed)
    history.stack.undo()
    history.stack.redo()
    assert history.current == fixed


def test_a_drag_back_to_the_start_leaves_no_step(qtbot) -> None:
    history = SettingsHistory(Settings())
    base = history.current
    history.push(dataclasses.replace(base, face=dataclasses.replace(base.face, strength=0.5)), "strength")
    history.push(base, "strength")
    assert history.stack.count() == 0
