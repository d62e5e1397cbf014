"""Face models behind one interface: batches of aligned faces in, restored faces out.

Spandrel's generic ``descriptor(image)`` hands [0, 1] images straight to the network, but
GFPGAN, CodeFormer and the other face models were trained on [-1, 1] inputs and return
tuples; so the networks are called here directly, normalised as they were trained.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch

from .codeformer import CodeFormerFeatures, decode, encode

log = logging.getLogger(__name__)

#: Faces per forward pass; 512 px faces cost a few hundred MB of activations each.
BATCH_SIZE = {"cpu": 4, "cuda": 8, "mps": 4}


class FaceRestorer(ABC):
    """Restores aligned 512 x 512 faces. Implementations are not thread-safe: one worker owns them."""

    name: str
    #: True when the model takes a fidelity weight (creativity acts inside the model).
    has_fidelity_input: bool = False
    #: True when the network runs (False for passthrough): lets callers skip model work.
    runs_network: bool = True

    @abstractmethod
    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        """``faces``: N x 512 x 512 x 3 float32 RGB in 0..1 -> the same shape, restored."""


class Passthrough(FaceRestorer):
    """No network: the aligned face goes straight back (checks alignment and paste-back)."""

    name = "passthrough"
    runs_network = False

    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        return faces


def inference_dtype(descriptor: Any, device: torch.device) -> torch.dtype:
    """Half precision only where spandrel says the architecture supports it."""
    if device.type == "cuda":
        if descriptor.supports_half:
            return torch.float16
        if descriptor.supports_bfloat16 and torch.cuda.is_bf16_supported():
            return torch.bfloat16
    if device.type == "mps" and descriptor.supports_half:
        return torch.float16
    return torch.float32


class SpandrelFaceRestorer(FaceRestorer):
    """Any spandrel face model (purpose "FaceSR"), e.g. GFPGAN."""

    def __init__(self, descriptor: Any, device: torch.device, name: str) -> None:
        self.descriptor = descriptor
        self.model = descriptor.model
        self.device = device
        self.name = name
        self.dtype = inference_dtype(descriptor, device)
        self.model.to(device=device, dtype=self.dtype).eval()
        self.batch_size = BATCH_SIZE.get(device.type, 4)
        self.architecture = descriptor.architecture.id

    def _to_tensor(self, faces: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(faces.transpose(0, 3, 1, 2)))
        return (x.to(self.device, non_blocking=True) * 2 - 1).to(self.dtype)

    @staticmethod
    def _to_numpy(y: torch.Tensor) -> np.ndarray:
        y = ((y.float() + 1) / 2).clamp_(0, 1)
        return y.permute(0, 2, 3, 1).cpu().numpy()

    def _network(self, x: torch.Tensor, creativity: float) -> torch.Tensor:
        if self.architecture == "GFPGAN":
            # randomize_noise=False: the StyleGAN noise stored with the weights, so output
            # is deterministic and does not depend on which faces share a batch.
            return self.model(x, return_rgb=False, randomize_noise=False)[0]
        return self.model(x)[0]

    def _run_checked(self, fn: Any, *args: Any) -> torch.Tensor:
        """Run ``fn``; on NaN/inf in reduced precision, switch to float32 for good and re-run."""
        y = fn(*args)
        if self.dtype != torch.float32 and not torch.isfinite(y).all():
            log.warning("%s gave NaN in %s; re-running in float32", self.name, self.dtype)
            self.dtype = torch.float32
            self.model.float()
            y = fn(*(a.to(torch.float32) if isinstance(a, (torch.Tensor, CodeFormerFeatures)) else a for a in args))
        return y

    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        out = np.empty_like(faces, dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(faces), self.batch_size):
                x = self._to_tensor(faces[start : start + self.batch_size])
                out[start : start + len(x)] = self._to_numpy(self._run_checked(self._network, x, creativity))
        return out


class CodeFormerRestorer(SpandrelFaceRestorer):
    """CodeFormer with fidelity weight w = 1 - creativity, and a cacheable encoder half."""

    has_fidelity_input = True

    def encode(self, faces: np.ndarray) -> list[CodeFormerFeatures]:
        """Weight-independent features, one entry per face (kept on the device)."""
        features: list[CodeFormerFeatures] = []
        with torch.inference_mode():
            for start in range(0, len(faces), self.batch_size):
                x = self._to_tensor(faces[start : start + self.batch_size])
                features.extend(encode(self.model, x).split())
        return features

    def decode(self, features: list[CodeFormerFeatures], creativity: float) -> np.ndarray:
        weight = 1.0 - creativity
        parts: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, len(features), self.batch_size):
                batch = CodeFormerFeatures.stack(features[start : start + self.batch_size]).to(self.dtype)
                parts.append(self._to_numpy(self._run_checked(lambda b: decode(self.model, b, weight), batch)))
        return np.concatenate(parts)

    def _network(self, x: torch.Tensor, creativity: float) -> torch.Tensor:
        return self.model(x, weight=1.0 - creativity)[0]

    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        return self.decode(self.encode(faces), creativity)
