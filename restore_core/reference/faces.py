"""Reference faces: the best (or a chosen) face of a reference photo, aligned to the 512 template.

A reference photo is decoded like any input, its faces are detected, one is chosen and
aligned exactly as the faces of the photo being restored are, so the two can be compared
pixel for pixel in template coordinates (colour statistics in the skin area, identity).
``ReferenceCache`` keeps each photo's face while the file is unchanged: a preview, a batch
or a folder of references decodes and detects each photo once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from ..align import estimate_warp
from ..errors import InputError
from ..faces import DetectedFace
from ..lru import LRUCache
from ..params import DetectionSettings

#: Detection settings for reference photos: facexlib's default threshold, every face size.
REFERENCE_DETECTION = DetectionSettings()


class FaceFinder(Protocol):
    """What a reference needs of a detector (``restore_core.detect.FaceDetector`` is one)."""

    @property
    def name(self) -> str: ...

    def detect(self, rgb8: np.ndarray, settings: DetectionSettings) -> list[DetectedFace]: ...


@dataclass(frozen=True, eq=False)
class ReferenceFace:
    """One face of a reference photo, aligned like the faces it guides."""

    path: Path
    face_index: int  # index among the photo's faces, in detection order (left to right)
    face_count: int  # faces found in the photo
    face: DetectedFace  # in the reference photo's upright pixels
    rgb8: np.ndarray  # 512 x 512 x 3 uint8 sRGB, aligned to the FFHQ template; read-only

    @cached_property
    def rgb(self) -> np.ndarray:
        """The aligned face as float32 0..1, the form colour matching takes."""
        rgb = self.rgb8.astype(np.float32) / 255.0
        rgb.setflags(write=False)
        return rgb


def best_face_index(faces: Sequence[DetectedFace]) -> int:
    """The face a reference photo is most likely about: the largest, weighted by confidence."""
    if not faces:
        raise ValueError("no faces to choose from")
    return max(range(len(faces)), key=lambda i: faces[i].size * faces[i].score)


def load_reference(
    path: str | Path,
    detector: FaceFinder,
    *,
    face_index: int | None = None,
    detection: DetectionSettings = REFERENCE_DETECTION,
) -> ReferenceFace:
    """Decode ``path``, detect its faces and align one: ``face_index``, or the best face.

    Raises ``InputError`` when the file cannot be read (as ``load_image`` does), when it has
    no face, or when ``face_index`` is not one of its faces.
    """
    from ..io import load_image

    file = Path(path)
    rgb8 = load_image(file).working_rgb8()
    faces = detector.detect(rgb8, detection)
    if not faces:
        raise InputError(file, "no face found in this reference photo")
    if face_index is None:
        face_index = best_face_index(faces)
    elif not 0 <= face_index < len(faces):
        found = "1 face (index 0)" if len(faces) == 1 else f"{len(faces)} faces (indices 0 to {len(faces) - 1})"
        raise InputError(file, f"reference face {face_index} does not exist: the photo has {found}")
    face = faces[face_index]
    aligned = estimate_warp(face.landmarks_array()).crop(rgb8)
    aligned.setflags(write=False)  # shared by the cache and every render that uses it
    return ReferenceFace(file, face_index, len(faces), face, aligned)


class ReferenceCache:
    """Reference faces by (file, its mtime and size, face index, detector), least recently used out.

    A file that cannot be used (unreadable, no face, no such face) is remembered too, and its
    ``InputError`` raised again while the file is unchanged: a batch does not re-detect it for
    every photo. Not thread-safe: the worker that owns the detector owns the cache.
    """

    def __init__(self, limit: int = 32) -> None:
        self.limit = limit  # each entry holds at most one 512 x 512 face (768 KB)
        self._entries: LRUCache[tuple[object, ...], ReferenceFace | InputError] = LRUCache(limit)

    def get(
        self,
        path: str | Path,
        detector: FaceFinder,
        *,
        face_index: int | None = None,
        detection: DetectionSettings = REFERENCE_DETECTION,
    ) -> ReferenceFace:
        """The cached reference face of ``path``, loaded with ``load_reference`` when new or changed."""
        file = Path(path)
        try:
            stat = file.stat()
        except OSError:
            # Missing or unreadable: load_reference raises the decoder's own message for it.
            return load_reference(file, detector, face_index=face_index, detection=detection)
        key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size, face_index, detector.name, detection)
        entry = self._entries.get(key)
        if entry is None:
            try:
                entry = load_reference(file, detector, face_index=face_index, detection=detection)
            except InputError as exc:
                entry = exc
            self._entries.put(key, entry)
        if isinstance(entry, InputError):
            raise entry.with_traceback(None)  # the same error again, not a growing traceback
        return entry
