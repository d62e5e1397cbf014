"""The app's Qt-free state: the face selection helpers and the undo history of settings."""

from __future__ import annotations

import dataclasses

from app.components import SettingsHistory
from app.components.selection import remap_faces, select_none, set_selected
from restore_core.faces import DetectedFace, landmarks_from_box
from restore_core.params import DetectionSettings, FaceOverride, Settings


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


def test_a_face_drawn_by_hand_starts_chosen_even_when_only_some_faces_are() -> None:
    old = [_face(0), _face(100)]
    drawn, other = _face(400), _face(600)  # the user drew one; a new detection found the other
    s = Settings(faces=(1,), detection=DetectionSettings(added=(drawn.box,)))
    moved = remap_faces(s, old, [*old, drawn, other])
    assert moved.faces == (1, 2)


def test_history_merges_a_drag_and_seals_it() -> None:
    history = SettingsHistory(Settings())
    seen: list[str] = []
    history.changed.connect(lambda _s, origin: seen.append(origin))
    base = history.current
    for v in (0.9, 0.8, 0.7):
        history.push(dataclasses.replace(base, face=dataclasses.replace(base.face, strength=v)), "strength")
    assert history.count == 1
    history.seal()
    history.push(
        dataclasses.replace(history.current, face=dataclasses.replace(history.current.face, strength=0.5)), "strength"
    )
    assert history.count == 2
    history.undo()
    assert history.current.face.strength == 0.7
    history.undo()
    assert history.current == base
    assert seen == ["edit", "edit", "edit", "edit", "undo", "undo"]

    # amend corrects the state that redo returns to
    history.redo()
    fixed = dataclasses.replace(history.current, faces=(0,))
    history.amend(fixed)
    history.undo()
    history.redo()
    assert history.current == fixed


def test_a_drag_back_to_the_start_leaves_no_step() -> None:
    history = SettingsHistory(Settings())
    base = history.current
    history.push(dataclasses.replace(base, face=dataclasses.replace(base.face, strength=0.5)), "strength")
    history.push(base, "strength")
    assert history.count == 0


def _strength(settings: Settings, value: float) -> Settings:
    return dataclasses.replace(settings, face=dataclasses.replace(settings.face, strength=value))


def test_undo_and_redo_name_their_step_and_say_when_they_can() -> None:
    history = SettingsHistory(Settings())
    updates: list[tuple[bool, str, bool, str]] = []
    history.steps_changed.connect(
        lambda: updates.append((history.can_undo, history.undo_text, history.can_redo, history.redo_text))
    )
    assert (history.can_undo, history.can_redo, history.undo_text) == (False, False, "")
    history.push(_strength(history.current, 0.4), "strength", "Strength")
    history.push(dataclasses.replace(history.current, faces=(0,)), "", "Exclude face 2")
    assert updates[-1] == (True, "Exclude face 2", False, "")
    history.undo()
    assert updates[-1] == (True, "Strength", True, "Exclude face 2")
    history.undo()
    assert updates[-1] == (False, "", True, "Strength")
    history.undo()  # nothing left: no change, no update
    assert len(updates) == 4
    # an edit after undoing drops the steps that could have been redone
    history.push(_strength(history.current, 0.2), "strength", "Strength")
    assert history.count == 1 and not history.can_redo


def test_the_clean_point_is_the_exported_state() -> None:
    history = SettingsHistory(Settings())
    assert history.is_clean  # as opened
    history.push(_strength(history.current, 0.4), "strength")
    assert not history.is_clean
    history.undo()
    assert history.is_clean  # undoing every edit is as good as exported
    history.redo()
    history.set_clean()  # exported here
    # the next drag of the same control is a step of its own: undo returns to the export
    history.push(_strength(history.current, 0.3), "strength")
    assert history.count == 2 and not history.is_clean
    history.undo()
    assert history.is_clean and history.current.face.strength == 0.4
    # undoing past the export, then editing, loses the exported state for good
    history.undo()
    history.push(_strength(history.current, 0.9), "other")
    assert not history.is_clean
    history.undo()
    assert not history.is_clean
    history.reset(Settings())
    assert history.is_clean and history.count == 0


def test_changes_say_why_and_amend_or_reset_add_no_step() -> None:
    history = SettingsHistory(Settings())
    seen: list[tuple[float, str]] = []
    history.changed.connect(lambda s, origin: seen.append((s.face.strength, origin)))
    history.push(_strength(history.current, 0.4), "strength")
    history.amend(dataclasses.replace(history.current, faces=(1,)))
    history.push(history.current)  # no change: nothing happens
    assert history.count == 1
    history.undo()
    history.redo()
    assert history.current.faces == (1,)
    history.reset(_strength(Settings(), 0.1))
    assert [origin for _, origin in seen] == ["edit", "amend", "undo", "redo", "reset"]
    assert seen[-1] == (0.1, "reset") and not history.can_undo
