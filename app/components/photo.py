"""Which photo (``ImageRef``), which part of it at what scale (``RenderView``), the faces found
in it (``Detection``): what the session, the canvas and the render worker pass each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from restore_core.faces import DetectedFace
from restore_core.params import DetectionSettings


@dataclass(frozen=True)
class ImageRef:
    """An image the window has opened; ``id`` changes on every open, even of the same file."""

    id: int
    path: Path


@dataclass(frozen=True)
class RenderView:
    """What the preview renders: ``region`` (x0, y0, x1, y1 in image pixels) at ``scale``
    (rendered pixels per image pixel: the zoom, at most 1)."""

    region: tuple[int, int, int, int]
    scale: float


@dataclass(frozen=True)
class Detection:
    image: ImageRef
    settings: DetectionSettings
    faces: tuple[DetectedFace, ...]
