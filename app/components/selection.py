"""Which faces are restored, and carrying that choice across a re-detection (no Qt here)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from restore_core.faces import SAME_FACE_IOU, DetectedFace, box_iou
from restore_core.params import Settings


def set_selected(settings: Settings, index: int, selected: bool, count: int) -> Settings:
    """Include or exclude face ``index`` of ``count``; ``faces=None`` stands for all of them."""
    chosen = set(range(count)) if settings.faces is None else set(settings.faces)
    chosen = chosen | {index} if selected else chosen - {index}
    faces = None if chosen == set(range(count)) else tuple(sorted(chosen))
    return dataclasses.replace(settings, faces=faces)


def select_all(settings: Settings) -> Settings:
    return dataclasses.replace(settings, faces=None)


def select_none(settings: Settings) -> Settings:
    return dataclasses.replace(settings, faces=())


def remap_faces(settings: Settings, old: Sequence[DetectedFace], new: Sequence[DetectedFace]) -> Settings:
    """Move the face selection and per-face overrides from ``old`` indices to ``new`` ones.

    A face keeps its choices when a new box overlaps its old box (IoU >= 0.5); new faces
    start selected when everything was selected, excluded otherwise, except a face just drawn
    by hand (``settings.detection.added``), which the user wants restored; lost faces drop out.
    """
    if settings.faces is None and not settings.overrides:
        return settings
    mapping: dict[int, int] = {}
    for j, face in enumerate(new):
        scores = [(box_iou(face.box, o.box), i) for i, o in enumerate(old) if i not in mapping]
        best = max(scores, default=(0.0, -1))
        if best[0] >= SAME_FACE_IOU:
            mapping[best[1]] = j
    faces = None
    if settings.faces is not None:
        kept = {mapping[i] for i in settings.faces if i in mapping}
        matched = set(mapping.values())
        drawn = {j for j, face in enumerate(new) if j not in matched and settings.detection.drew(face.box)}
        faces = tuple(sorted(kept | drawn))
    overrides = tuple(sorted((mapping[i], o) for i, o in settings.overrides if i in mapping))
    return dataclasses.replace(settings, faces=faces, overrides=overrides)
