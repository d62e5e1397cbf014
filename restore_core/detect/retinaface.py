"""facexlib's RetinaFace network: weights loading and one batched forward pass.

The network is built directly from facexlib's class (never ``init_detection_model``, which
downloads into site-packages). Its outputs are decoded with facexlib's ``decode`` and
``decode_landm``, on the anchors above the score threshold only, in the pixels of the tile
the network saw; the detector maps them back to the image.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..errors import ModelError
from ..models import build_retinaface

#: ``auto`` picks the first of these that is installed.
AUTO_ORDER = ("retinaface_resnet50", "retinaface_mobile0.25")

#: RetinaFace's anchor layout (facexlib's cfg, identical for both backbones).
_STEPS = (8, 16, 32)
_MIN_SIZES = ((16, 32), (64, 128), (256, 512))
_VARIANCE = (0.1, 0.2)
#: The networks were trained on BGR pixels in 0..255 minus this mean.
_MEAN_BGR = (104.0, 117.0, 123.0)


@dataclass(frozen=True, eq=False)
class RawDetections:
    """Detections in some pixel frame: ``boxes`` N x 4 (x1, y1, x2, y2), ``scores`` N,
    ``landmarks`` N x 5 x 2; all float64 numpy."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    def sizes(self) -> np.ndarray:
        """The larger side of each box."""
        return np.maximum(self.boxes[:, 2] - self.boxes[:, 0], self.boxes[:, 3] - self.boxes[:, 1])

    def __getitem__(self, index: np.ndarray) -> RawDetections:
        return RawDetections(self.boxes[index], self.scores[index], self.landmarks[index])

    def mapped(self, scale_x: float, scale_y: float, dx: float = 0.0, dy: float = 0.0) -> RawDetections:
        """Coordinates shifted by (dx, dy), then divided by (scale_x, scale_y)."""
        shift, scale = np.array([dx, dy]), np.array([scale_x, scale_y])
        boxes = ((self.boxes.reshape(-1, 2, 2) + shift) / scale).reshape(-1, 4)
        return RawDetections(boxes, self.scores, (self.landmarks + shift) / scale)

    @staticmethod
    def concatenate(parts: list[RawDetections]) -> RawDetections:
        if not parts:
            return RawDetections(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)))
        return RawDetections(
            np.concatenate([p.boxes for p in parts]),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.landmarks for p in parts]),
        )


def load_state(path: Path) -> dict[str, torch.Tensor]:
    """The weights in ``path`` as a plain state dict, without the ``module.`` prefix of DataParallel."""
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises several types (pickle, zip, runtime) for bad files
        raise ModelError(f"{path}: cannot load detector weights: {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{path}: not a detector state dict")
    return {k.removeprefix("module."): v for k, v in state.items()}


def build_network(name: str, state: dict[str, torch.Tensor], device: torch.device, source: Path) -> torch.nn.Module:
    """facexlib's RetinaFace for ``name`` with ``state`` loaded strictly, in eval mode on ``device``."""
    net = build_retinaface(name, state, source)
    fuse_batch_norms(net)
    net = net.to(device)
    if device.type == "cpu":
        # Measured about 1.5x faster on CPU for tile-sized inputs.
        net = net.to(memory_format=torch.channels_last)
    return net


def fuse_batch_norms(net: torch.nn.Module) -> None:
    """Fold every batch norm that directly follows a convolution (inside a ``Sequential``,
    as all of RetinaFace's heads and the MobileNet backbone have them) into that convolution.

    Inference only; the same outputs up to float rounding, a fifth less time on CPU.
    """
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for block in [m for m in net.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(block) - 1):
            conv, norm = block[i], block[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                block[i], block[i + 1] = fuse_conv_bn_eval(conv, norm), nn.Identity()


def resolve_weights(
    name: str,
    *,
    allow_download: bool,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[str, Path]:
    """(detector name, weights file) for a known ``name``; ``auto`` is the best installed detector,
    or ResNet-50 (downloaded when allowed) when none is."""
    from .. import models

    if name == "auto":
        for candidate in AUTO_ORDER:
            path = models.find(candidate)
            if path is not None:
                return candidate, path
        name = AUTO_ORDER[0]
    return name, models.require(name, allow_download=allow_download, progress=progress, cancel=cancel)


@lru_cache(maxsize=16)
def _anchors(height: int, width: int, device: torch.device) -> torch.Tensor:
    """Anchors (cx, cy, w, h) in input pixels, in the order of the network's outputs.

    The same layout as facexlib's ``PriorBox`` (which builds it in a Python loop, far too
    slowly for megapixel inputs), in pixels instead of fractions of the input.
    """
    levels = []
    for step, sizes in zip(_STEPS, _MIN_SIZES, strict=True):
        rows, cols = -(-height // step), -(-width // step)
        cy, cx = np.meshgrid((np.arange(rows) + 0.5) * step, (np.arange(cols) + 0.5) * step, indexing="ij")
        size = np.broadcast_to(np.asarray(sizes, dtype=np.float64), (rows, cols, len(sizes)))
        centres = np.broadcast_to(np.stack([cx, cy], axis=-1)[:, :, None, :], (rows, cols, len(sizes), 2))
        levels.append(np.concatenate([centres, size[..., None].repeat(2, axis=-1)], axis=-1).reshape(-1, 4))
    return torch.from_numpy(np.concatenate(levels).astype(np.float32)).to(device)


def to_network_input(tiles_rgb8: np.ndarray, device: torch.device) -> torch.Tensor:
    """N x H x W x 3 uint8 RGB -> N x 3 x H x W float BGR minus the training mean (channels-last)."""
    x = torch.from_numpy(tiles_rgb8).to(device)
    x = x.flip(-1).float() - torch.tensor(_MEAN_BGR, device=device)
    return x.permute(0, 3, 1, 2)


def forward(net: torch.nn.Module, x: torch.Tensor, threshold: float) -> list[RawDetections]:
    """Run ``net`` on the batch ``x``; per input, the detections scoring above ``threshold``
    in input pixels, before non-maximum suppression."""
    from facexlib.detection.retinaface_utils import decode, decode_landm

    loc, conf, landm = net(x)
    anchors = _anchors(int(x.shape[2]), int(x.shape[3]), x.device)
    if anchors.shape[0] != loc.shape[1]:
        raise RuntimeError(f"anchor layout ({anchors.shape[0]}) does not match the network output ({loc.shape[1]})")
    found = []
    for i in range(len(x)):
        keep = conf[i, :, 1] > threshold
        # Anchors in pixels give pixels: both decodings are linear in the anchor geometry.
        boxes = decode(loc[i][keep], anchors[keep], _VARIANCE)
        points = decode_landm(landm[i][keep], anchors[keep], _VARIANCE).reshape(-1, 5, 2)
        # To the CPU before widening: MPS has no float64.
        found.append(
            RawDetections(
                boxes.cpu().double().numpy(),
                conf[i, keep, 1].cpu().double().numpy(),
                points.cpu().double().numpy(),
            )
        )
    return found
