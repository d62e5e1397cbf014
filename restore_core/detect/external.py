"""Faces given from outside (a JSON file of boxes) instead of detected: detection is skipped."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..faces import DetectedFace, landmarks_from_box

#: What ``faces_from_json`` calls an in-memory source in its error messages.
IN_MEMORY_NAME = "faces JSON"


def faces_from_json(source: str | Path | Mapping[str, Any] | list[Any]) -> list[DetectedFace]:
    """Faces from a JSON file (path) or its parsed content, in the order given.

    Accepts the report of ``detect`` / ``restore`` (``{"faces": [{"box": [x1, y1, x2, y2],
    "score": s, "landmarks": [[x, y] x 5]}, ...]}``; score and landmarks optional) or a bare
    list of boxes (``[[x1, y1, x2, y2], ...]``). Boxes without landmarks get
    ``faces.landmarks_from_box``. Anything else raises ``InputError`` naming the source.
    """
    if isinstance(source, (str, Path)):
        name: str | Path = source
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(source, f"cannot read face boxes: {exc}") from exc
    else:
        name, data = IN_MEMORY_NAME, source
    entries = data.get("faces") if isinstance(data, Mapping) else data
    if not isinstance(entries, list):
        raise InputError(name, 'face boxes must be a list of boxes or an object with a "faces" list')
    faces = []
    for i, entry in enumerate(entries):
        try:
            faces.append(_face(entry))
        except (TypeError, ValueError) as exc:
            raise InputError(name, f"face {i}: {exc}") from None
    return faces


def _numbers(values: Any, count: int, what: str) -> tuple[float, ...]:
    if not isinstance(values, (list, tuple)) or len(values) != count:
        raise ValueError(f"{what} must be {count} numbers, got {values!r}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        raise ValueError(f"{what} must be {count} finite numbers, got {values!r}")
    return tuple(float(v) for v in values)


def _face(entry: Any) -> DetectedFace:
    if isinstance(entry, Mapping):
        if "box" not in entry:
            raise ValueError('has no "box"')
        box_data, score, landmarks_data = entry["box"], entry.get("score", 1.0), entry.get("landmarks")
    else:
        box_data, score, landmarks_data = entry, 1.0, None
    box = _numbers(box_data, 4, "box [x1, y1, x2, y2]")
    if not (box[2] > box[0] and box[3] > box[1]):
        raise ValueError(f"box [x1, y1, x2, y2] needs x2 > x1 and y2 > y1, got {list(box)}")
    (score,) = _numbers([score], 1, "score")
    if landmarks_data is None:
        landmarks = landmarks_from_box(box)
    else:
        if not isinstance(landmarks_data, (list, tuple)) or len(landmarks_data) != 5:
            raise ValueError(f"landmarks must be five [x, y] points, got {landmarks_data!r}")
        landmarks = tuple(_numbers(p, 2, "a landmark [x, y]") for p in landmarks_data)  # type: ignore[misc]
    return DetectedFace(box=box, score=score, landmarks=landmarks)  # type: ignore[arg-type]
