"""Identity embeddings with facexlib's ArcFace (IR-SE-50), on any device, from aligned faces.

The network is facexlib's ``Backbone(num_layers=50, drop_ratio=0.6, mode="ir_se")``, the
architecture of ``recognition_arcface_ir_se50.pth``, built here and loaded through the
models package (``weights_only``): facexlib's ``init_recognition_model`` would move it to
CUDA unconditionally. It takes 112 x 112 RGB crops in [-1, 1] aligned to the ArcFace
five-point template; ``arcface_crop`` cuts them out of the 512 FFHQ-aligned faces the rest
of Facemend uses, with one fixed similarity transform between the two templates.

The weights are optional: without them the identity features (automatic pairing,
similarity readouts, identity lock) are unavailable and say so with one message.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..align import ALIGNED_SIZE, FaceWarp, estimate_warp
from ..errors import ModelError
from ..lru import LRUCache

if TYPE_CHECKING:
    import torch

    from ..models import Progress

IDENTITY_MODEL = "arcface"  # registry name
EMBEDDING_SIZE = 512
ARCFACE_SIZE = 112
#: insightface's landmark template of 112 x 112 ArcFace crops (eyes, nose, mouth corners),
#: the alignment of the data the IR-SE-50 weights were trained on.
ARCFACE_TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)
#: The aligned face is first shrunk 4x by area averaging: the template-to-template warp
#: shrinks about 3.6x, and a warp alone would alias (it samples, it does not average).
_PRESHRINK = 4
_BATCH = 16
_EMBEDDING_CACHE = 1024  # 2 KB each


def identity_available() -> bool:
    """True when the ArcFace weights are in the models folder (verified or not)."""
    from ..models import find

    return find(IDENTITY_MODEL) is not None


def identity_unavailable_message() -> str:
    """The one line the CLI and the GUI show where an identity feature needs the missing weights."""
    from ..models import spec

    model = spec(IDENTITY_MODEL)
    return (
        f"reference identity features need the ArcFace model ({model.filename}, "
        f"~{round(model.display_size / 1e6)} MB): facemend-cli models download {IDENTITY_MODEL}"
    )


@lru_cache(maxsize=1)
def _to_arcface() -> FaceWarp:
    """Aligned-512 pixels, shrunk by ``_PRESHRINK``, to ArcFace-112 pixels."""
    template_to_aligned = estimate_warp(ARCFACE_TEMPLATE_112, ALIGNED_SIZE)
    return FaceWarp(template_to_aligned.inverse, ARCFACE_SIZE).for_canvas((0.0, 0.0), 1.0 / _PRESHRINK)


def arcface_crop(aligned_rgb8: np.ndarray) -> np.ndarray:
    """The 112 x 112 x 3 uint8 ArcFace input cut from a 512 x 512 x 3 uint8 aligned face."""
    if aligned_rgb8.shape != (ALIGNED_SIZE, ALIGNED_SIZE, 3) or aligned_rgb8.dtype != np.uint8:
        raise ValueError(
            f"an aligned face is {ALIGNED_SIZE} x {ALIGNED_SIZE} x 3 uint8, "
            f"got {aligned_rgb8.dtype} {aligned_rgb8.shape}"
        )
    small = ALIGNED_SIZE // _PRESHRINK
    return _to_arcface().crop(cv2.resize(aligned_rgb8, (small, small), interpolation=cv2.INTER_AREA))


def as_rgb8_batch(faces: np.ndarray) -> np.ndarray:
    """N x 512 x 512 x 3 uint8 from one face or a stack, uint8 or float 0..1."""
    batch = np.asarray(faces)
    if batch.ndim == 3:
        batch = batch[None]
    if batch.dtype != np.uint8:
        batch = (np.clip(batch.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return batch


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings: 1 for the same direction, about 0 for strangers."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    return float(a @ b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12)


def similarity_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarities of every row of ``a`` (N x 512) with every row of ``b`` (M x 512): N x M."""
    a = _unit_rows(np.asarray(a, dtype=np.float64).reshape(-1, EMBEDDING_SIZE))
    b = _unit_rows(np.asarray(b, dtype=np.float64).reshape(-1, EMBEDDING_SIZE))
    return a @ b.T


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


class IdentityModel:
    """A loaded ArcFace on one device. Embeddings are cached by face content.

    Not thread-safe: one worker owns it.
    """

    def __init__(self, network: torch.nn.Module, device: torch.device, weights: Path) -> None:
        self.network = network
        self.device = device
        self.weights = weights
        self.network_runs = 0  # forward passes, for tests and diagnostics
        self._embeddings: LRUCache[bytes, np.ndarray] = LRUCache(_EMBEDDING_CACHE)

    def __repr__(self) -> str:
        return f"IdentityModel(device={self.device}, weights={str(self.weights)!r})"

    def embed(self, faces: np.ndarray) -> np.ndarray:
        """L2-normalised embeddings (N x 512 float32) of aligned faces.

        ``faces``: one 512 x 512 x 3 face or N of them, uint8 or float 0..1 (restored faces).
        """
        batch = as_rgb8_batch(faces)
        keys = [hashlib.blake2b(face.tobytes(), digest_size=16).digest() for face in batch]
        out = np.empty((len(batch), EMBEDDING_SIZE), dtype=np.float32)
        missing = []
        for n, key in enumerate(keys):
            cached = self._embeddings.get(key)
            if cached is None:
                missing.append(n)
            else:
                out[n] = cached
        for start in range(0, len(missing), _BATCH):
            chunk = missing[start : start + _BATCH]
            for n, embedding in zip(chunk, self._run(batch[chunk]), strict=True):
                self._embeddings.put(keys[n], embedding)
                out[n] = embedding
        return out

    def _run(self, faces_rgb8: np.ndarray) -> np.ndarray:
        import torch

        crops = np.stack([arcface_crop(face) for face in faces_rgb8]).astype(np.float32)
        tensor = torch.from_numpy(crops / 127.5 - 1.0).permute(0, 3, 1, 2).contiguous().to(self.device)
        with torch.inference_mode():
            out = self.network(tensor).float().cpu().numpy()
        self.network_runs += 1
        # The network normalises already; again in float64 so every device gives unit norm.
        return _unit_rows(out.astype(np.float64)).astype(np.float32)


def load_identity_model(
    device: torch.device | str,
    *,
    allow_download: bool = False,
    progress: Progress | None = None,
) -> IdentityModel:
    """The ArcFace model on ``device``; ``ModelError`` with ``identity_unavailable_message`` when
    the weights are missing and may not be downloaded."""
    import torch

    from ..models import build_arcface, find, load_state_dict, require

    path = find(IDENTITY_MODEL)
    if path is None:
        if not allow_download:
            raise ModelError(identity_unavailable_message())
        path = require(IDENTITY_MODEL, allow_download=True, progress=progress)
    network = build_arcface(load_state_dict(path), Path(path))
    device = torch.device(device)
    network.to(device)
    return IdentityModel(network, device, Path(path))
