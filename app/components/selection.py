"""Which faces are restored, and carrying that choice across a re-detection (no Qt here)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from restore_core.faces import DetectedFace
from restore_core.params import Settings

#: Boxes overlapping at least this much (intersection over union) are taken as the same face.
SAME_FACE_IOU = 0.5


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


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def remap_faces(settings: Settings, old: Sequence[DetectedFace], new: Sequence[DetectedFace]) -> Settings:
    """Move the face selection and per-face overrides from ``old`` indices to ``new`` ones.

    A face keeps its choices when a new box overlaps its old box (IoU >= 0.5); new faces
    start selected when everything was selected, excluded otherwise; lost faces drop out.
    """
    if settings.faces is None and not settings.overrides:
        return settings
    mapping: dict[int, int] = {}
    for j, face in enumerate(new):
        scores = [(iou(face.box, o.box), i) for i, o in enumerate(old) if i not in mapping]
        best = max(scores, default=(0.0, -1))
        if best[0] >= SAME_FACE_IOU:
            mapping[best[1]] = j
    faces = None if settings.faces is None else tuple(sorted(mapping[i] for i in settings.faces if i in mapping))
    overrides = tuple(sorted((mapping[i], o) for i, o in settings.overrides if i in mapping))
    return dataclasses.replace(settings, faces=faces, overrides=overrides)
