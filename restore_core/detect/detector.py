"""``FaceDetector``: RetinaFace over the multi-scale plan, faces in original pixels."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import ModelError
from ..faces import DetectedFace
from ..models import RETINAFACE_NETWORKS, retinaface_network_of
from ..params import DetectionSettings
from . import multiscale, retinaface
from .retinaface import RawDetections
from .select import select_faces

#: Input pixels per forward pass on a GPU: bounds activation memory (ResNet-50 needs about
#: 10x MobileNet's). On a CPU one tile per pass is fastest (measured: batches cost more per pixel).
_BATCH_PIXELS = {"retinaface_mobile0.25": 4_000_000, "retinaface_resnet50": 1_100_000}


class FaceDetector:
    """A loaded RetinaFace. Not thread-safe: one worker owns it."""

    def __init__(self, net: torch.nn.Module, name: str, device: torch.device, weights: Path) -> None:
        self.net = net
        self.name = name  # registry name, e.g. "retinaface_mobile0.25"
        self.device = device
        self.weights = weights

    def __repr__(self) -> str:
        return f"FaceDetector({self.name!r}, device={self.device}, weights={str(self.weights)!r})"

    def detect(self, rgb8: np.ndarray, settings: DetectionSettings) -> list[DetectedFace]:
        """Faces in ``rgb8`` (H x W x 3 uint8 RGB, upright) in its pixel coordinates.

        Filtered by ``settings`` (score threshold from sensitivity, sizes, centre face) and
        ordered left to right (see ``select.sort_faces``). Coordinates are those facexlib's
        ``detect_faces`` reports for the image at full size; boxes of faces cut by the image
        edge may reach past it.
        """
        if rgb8.dtype != np.uint8 or rgb8.ndim != 3 or rgb8.shape[2] != 3:
            raise ValueError(f"detection needs H x W x 3 uint8 RGB, got {rgb8.dtype} {rgb8.shape}")
        height, width = rgb8.shape[:2]
        found, penalties = [], []
        image = rgb8
        with torch.inference_mode():
            # Finest first: each coarser level is resized from the last, not from the full image.
            for level in reversed(multiscale.plan_levels(width, height, settings.min_face)):
                if image.shape[:2] != (level.height, level.width):
                    image = cv2.resize(image, (level.width, level.height), interpolation=cv2.INTER_AREA)
                level_found = self._detect_level(image, level, settings.score_threshold)
                level_found = multiscale.suppress(level_found, level_found.scores)
                found.append(level_found.mapped(*level.scale(width, height)))
                penalties.append(multiscale.size_penalty(level_found.sizes()))
        candidates = RawDetections.concatenate(found)
        merged = multiscale.suppress(candidates, candidates.scores - np.concatenate(penalties))
        faces = [
            DetectedFace(
                box=tuple(float(v) for v in box),  # type: ignore[arg-type]
                score=float(score),
                landmarks=tuple((float(x), float(y)) for x, y in points),
            )
            for box, score, points in zip(merged.boxes, merged.scores, merged.landmarks, strict=True)
        ]
        return select_faces(faces, settings, (width, height))

    def _detect_level(self, image: np.ndarray, level: multiscale.Level, threshold: float) -> RawDetections:
        """Detections in ``image`` (the level's size), in its pixels, each from the tile that owns it."""
        tw, th = level.tile_width, level.tile_height
        per_batch = 1 if self.device.type == "cpu" else max(1, _BATCH_PIXELS[self.name] // (tw * th))
        parts = []
        for start in range(0, len(level.tile_origins), per_batch):
            origins = level.tile_origins[start : start + per_batch]
            tiles = np.stack([image[y : y + th, x : x + tw] for x, y in origins])
            batch = retinaface.forward(self.net, retinaface.to_network_input(tiles, self.device), threshold)
            for origin, tile_found in zip(origins, batch, strict=True):
                kept = tile_found[multiscale.owned(tile_found, level, origin)]
                parts.append(kept.mapped(1.0, 1.0, dx=origin[0], dy=origin[1]))
        return RawDetections.concatenate(parts)


def load_detector(
    name: str,
    device: torch.device,
    *,
    weights: Path | None = None,
    allow_download: bool = True,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> FaceDetector:
    """A ready detector: ``name`` is ``auto``, ``retinaface_resnet50`` or ``retinaface_mobile0.25``.

    ``weights`` loads that file instead of the model store's (with ``auto``, the backbone is
    read from the file). ``progress(done, total)`` follows a download, ``cancel`` stops it.
    """
    if name != "auto" and name not in RETINAFACE_NETWORKS:
        raise ModelError(f"unknown detector {name!r}; known detectors: auto, {', '.join(RETINAFACE_NETWORKS)}")
    if weights is None:
        name, path = retinaface.resolve_weights(name, allow_download=allow_download, progress=progress, cancel=cancel)
    else:
        path = Path(weights)
    state = retinaface.load_state(path)
    if name == "auto":
        name = retinaface_network_of(state, path)
    device = torch.device(device)
    return FaceDetector(retinaface.build_network(name, state, device, path), name, device, path)
