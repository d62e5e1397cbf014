"""Face models in torch itself: CUDA, MPS or the CPU, in the precision the device computes fastest."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..codeformer import CodeFormerFeatures
from ..runner import Architecture, FaceRestorer, FeatureSplit, architecture_of
from .precision import Precision, checked_precision, inference_dtype, precision_of, torch_dtype

log = logging.getLogger(__name__)

#: Faces per forward pass; 512 px faces cost a few hundred MB of activations each. On the CPU
#: a batch of 2 costs the same per face as single faces (measured, GFPGAN and CodeFormer) and
#: would make a face's pixels depend on which faces share its batch: one face per pass.
BATCH_SIZE = {"cpu": 1, "cuda": 8, "mps": 4}

#: Modules given a contiguous-output hook already (the loader shares one model between restorers).
_contiguous_outputs: weakref.WeakSet[torch.nn.Module] = weakref.WeakSet()
#: How each (shared) model was last placed: by which kind of restorer, in which dtype and layout.
_placements: weakref.WeakKeyDictionary[torch.nn.Module, tuple[type, torch.dtype, bool]] = weakref.WeakKeyDictionary()


def use_channels_last(model: torch.nn.Module) -> None:
    """Convolution weights in channels-last layout (inputs follow in ``_to_tensor``); idempotent."""
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.to(memory_format=torch.channels_last)
    final_conv = getattr(model, "final_conv", None)
    if isinstance(final_conv, torch.nn.Module) and final_conv not in _contiguous_outputs:
        # GFPGAN flattens this (4 x 4) feature map with ``view``, which needs the default layout.
        final_conv.register_forward_hook(lambda _module, _inputs, output: output.contiguous())
        _contiguous_outputs.add(final_conv)


class SpandrelFaceRestorer(FaceRestorer):
    """Any spandrel face model (purpose "FaceSR"), e.g. GFPGAN, called in torch in ``dtype``."""

    backend = "torch"

    def __init__(
        self, descriptor: Any, device: torch.device, name: str, architecture: Architecture, dtype: torch.dtype
    ) -> None:
        self.descriptor = descriptor
        self.model = descriptor.model
        self.device = device
        self.device_name = str(device)
        self.name = name
        self.architecture = architecture
        self.has_fidelity_input = architecture.fidelity_input
        self.dtype = dtype
        #: dtype of the tensors fed to the network (a split model keeps its encoder in float32)
        self.input_dtype = self.dtype
        self.channels_last = device.type == "cpu" and architecture.channels_last
        self._place_model()
        self.batch_size = BATCH_SIZE.get(device.type, 4)

    @property
    def precision(self) -> str:  # type: ignore[override]  # follows a NaN re-run's switch to fp32
        return precision_of(self.dtype)

    def _place_model(self) -> None:
        """The network on the device, in ``dtype`` and the layout it runs fastest in."""
        self.model.to(device=self.device, dtype=self.dtype).eval()
        if self.channels_last:
            use_channels_last(self.model)
        _placements[self.model] = self._placement

    def _to_tensor(self, faces: np.ndarray) -> torch.Tensor:
        """N x H x W x 3 in 0..1 -> N x 3 x H x W in [-1, 1] on the device, in the input dtype and layout."""
        # N x H x W x 3 seen as N x 3 x H x W is already channels-last: no transposing copy.
        x = torch.from_numpy(np.require(faces, requirements="W")).permute(0, 3, 1, 2)
        x = (x.to(self.device, non_blocking=True) * 2 - 1).to(self.input_dtype)
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        return x.contiguous(memory_format=memory_format)

    @staticmethod
    def _to_numpy(y: torch.Tensor) -> np.ndarray:
        y = ((y.float() + 1) / 2).clamp_(0, 1)
        return y.permute(0, 2, 3, 1).cpu().numpy()

    def _network(self, x: torch.Tensor, creativity: float) -> torch.Tensor:
        return self.architecture.forward(self.model, x, creativity)

    def _run_checked(self, fn: Callable[..., torch.Tensor], *args: Any) -> torch.Tensor:
        """Run ``fn``; on NaN/inf in reduced precision, switch to float32 for good and re-run."""
        y = fn(*args)
        if self.dtype != torch.float32 and not torch.isfinite(y).all():
            log.warning("%s gave NaN in %s; re-running in float32", self.name, self.dtype)
            self.dtype = self.input_dtype = torch.float32
            self._place_model()
            y = fn(*(a.to(torch.float32) if isinstance(a, (torch.Tensor, CodeFormerFeatures)) else a for a in args))
        return y

    @property
    def _placement(self) -> tuple[type, torch.dtype, bool]:
        return (type(self), self.dtype, self.channels_last)

    def _ensure_placed(self) -> None:
        # The loader shares one model per file and device: another restorer (another engine in
        # this process, another precision) may have cast it since. Put it back as placed here.
        if _placements.get(self.model) != self._placement or next(self.model.parameters()).dtype != self.input_dtype:
            self._place_model()

    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        self._ensure_placed()
        out = np.empty_like(faces, dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(faces), self.batch_size):
                x = self._to_tensor(faces[start : start + self.batch_size])
                out[start : start + len(x)] = self._to_numpy(self._run_checked(self._network, x, creativity))
        return out


class SplitFaceRestorer(SpandrelFaceRestorer):
    """A model with a ``FeatureSplit`` (CodeFormer): the creativity-independent encoder's
    features cached per face by the engine, the decoder run for each creativity.

    In reduced precision only the decoder half runs in ``dtype``; the encoder half stays
    float32, so the code lookup is float32's.
    """

    caches_encoder = True

    @property
    def split(self) -> FeatureSplit:
        assert self.architecture.split is not None, "a SplitFaceRestorer's architecture has a split"
        return self.architecture.split

    @property
    def precision(self) -> str:  # type: ignore[override]
        decoder = precision_of(self.dtype)
        return decoder if decoder == "fp32" else f"fp32 encoder + {decoder} decoder"

    def _place_model(self) -> None:
        # The encoder half is never cast below float32 (a round trip would lose its precision).
        self.model.to(device=self.device).eval()
        self.split.place(self.model, self.dtype)
        self.input_dtype = torch.float32
        if self.channels_last:
            use_channels_last(self.model)
        _placements[self.model] = self._placement

    def encode(self, faces: np.ndarray) -> list[CodeFormerFeatures]:
        """Creativity-independent features, one entry per face (kept on the device)."""
        self._ensure_placed()
        features: list[CodeFormerFeatures] = []
        with torch.inference_mode():
            for start in range(0, len(faces), self.batch_size):
                x = self._to_tensor(faces[start : start + self.batch_size])
                features.extend(self.split.encode(self.model, x).split())
        return features

    def decode(self, features: list[CodeFormerFeatures], creativity: float) -> np.ndarray:
        self._ensure_placed()
        parts: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, len(features), self.batch_size):
                batch = CodeFormerFeatures.stack(features[start : start + self.batch_size]).to(self.dtype)
                y = self._run_checked(lambda b: self.split.decode(self.model, b, creativity), batch)
                parts.append(self._to_numpy(y))
        return np.concatenate(parts)

    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        return self.decode(self.encode(faces), creativity)


def torch_restorer(
    weights: Path, device: torch.device, name: str, precision: str | None = None
) -> SpandrelFaceRestorer:
    """The face model in ``weights`` in torch on ``device``. A restorer in reduced precision
    takes the model for itself (its weights are rounded when cast); float32 ones share it."""
    from ... import models

    descriptor = models.load_face_model(weights, device)
    architecture = architecture_of(descriptor)
    dtype = _dtype(descriptor, device, precision)
    if dtype != torch.float32:
        descriptor = models.take_face_model(weights, device)
    cls = SplitFaceRestorer if architecture.split is not None else SpandrelFaceRestorer
    return cls(descriptor, device, name, architecture, dtype)


def _dtype(descriptor: Any, device: torch.device, precision: str | None) -> torch.dtype:
    """``precision`` None: the fastest the device computes; a name forces one (the benchmark's
    columns), refused where the architecture cannot run it."""
    if precision is None:
        return inference_dtype(descriptor, device, cpu_bf16=True)
    offered: tuple[Precision, ...] = ("fp32", "bf16", "fp16")
    return torch_dtype(checked_precision(precision, descriptor, offered, "torch"))
