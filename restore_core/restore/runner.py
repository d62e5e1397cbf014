"""Face models behind one interface: batches of aligned faces in, restored faces out.

Spandrel's generic ``descriptor(image)`` hands [0, 1] images straight to the network, but
GFPGAN, CodeFormer and the other face models were trained on [-1, 1] inputs and return
tuples; so the networks are called here directly, normalised as they were trained.
"""

from __future__ import annotations

import logging
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .codeformer import CodeFormerFeatures, decode, encode, run_decoder_in, use_codebook_lookup

log = logging.getLogger(__name__)

#: Faces per forward pass; 512 px faces cost a few hundred MB of activations each. On the CPU
#: a batch of 2 costs the same per face as single faces (measured, GFPGAN and CodeFormer) and
#: would make a face's pixels depend on which faces share its batch: one face per pass.
BATCH_SIZE = {"cpu": 1, "cuda": 8, "mps": 4}


class FaceRestorer(ABC):
    """Restores aligned 512 x 512 faces. Implementations are not thread-safe: one worker owns them."""

    name: str
    #: True when the model takes a fidelity weight (creativity acts inside the model).
    has_fidelity_input: bool = False
    #: True when the network runs (False for passthrough): lets callers skip model work.
    runs_network: bool = True
    #: True when the network splits into an encoder whose output does not depend on creativity
    #: (cached per face: a creativity change runs ``decode`` only) and a decoder.
    caches_encoder: bool = False
    #: Faces per model pass: the engine reports (and can be cancelled) between passes.
    batch_size: int = 1

    @property
    def creativity_by_preconditioning(self) -> bool:
        """Whether creativity acts as input blur and noise: for networks without a fidelity
        input. Passthrough has no creativity: it must show the aligned face exactly."""
        return self.runs_network and not self.has_fidelity_input

    @abstractmethod
    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        """``faces``: N x 512 x 512 x 3 float32 RGB in 0..1 -> the same shape, restored."""


class Passthrough(FaceRestorer):
    """No network: the aligned face goes straight back (checks alignment and paste-back)."""

    name = "passthrough"
    runs_network = False

    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        return faces


def cpu_computes_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic (AVX512-BF16 or AMX): there bf16 convolutions run at
    about twice the fp32 rate (measured 2x GFPGAN, 2.3x CodeFormer); elsewhere oneDNN emulates
    bf16, slower than fp32."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu's own probes
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def inference_dtype(descriptor: Any, device: torch.device, *, cpu_bf16: bool = False) -> torch.dtype:
    """Half precision only where spandrel says the architecture supports it; on the CPU only
    when ``cpu_bf16`` is asked for and the CPU computes bf16 natively."""
    if device.type == "cuda":
        if descriptor.supports_half:
            return torch.float16
        if descriptor.supports_bfloat16 and torch.cuda.is_bf16_supported():
            return torch.bfloat16
    if device.type == "mps" and descriptor.supports_half:
        return torch.float16
    if device.type == "cpu" and cpu_bf16 and descriptor.supports_bfloat16 and cpu_computes_bf16():
        return torch.bfloat16
    return torch.float32


#: Modules given a contiguous-output hook already (the loader shares one model between restorers).
_contiguous_outputs: weakref.WeakSet[torch.nn.Module] = weakref.WeakSet()


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
    """Any spandrel face model (purpose "FaceSR"), e.g. GFPGAN."""

    def __init__(self, descriptor: Any, device: torch.device, name: str) -> None:
        self.descriptor = descriptor
        self.model = descriptor.model
        self.device = device
        self.name = name
        self.architecture = architecture_of(descriptor)
        self.dtype = inference_dtype(descriptor, device, cpu_bf16=True)
        #: dtype of the tensors fed to the network (CodeFormer keeps its encoder in float32)
        self.input_dtype = self.dtype
        self.channels_last = device.type == "cpu" and self.architecture.channels_last
        self._place_model()
        self.batch_size = BATCH_SIZE.get(device.type, 4)

    def _place_model(self) -> None:
        """The network on the device, in ``dtype`` and the layout it runs fastest in."""
        self.model.to(device=self.device, dtype=self.dtype).eval()
        if self.channels_last:
            use_channels_last(self.model)

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

    def _run_checked(self, fn: Any, *args: Any) -> torch.Tensor:
        """Run ``fn``; on NaN/inf in reduced precision, switch to float32 for good and re-run."""
        y = fn(*args)
        if self.dtype != torch.float32 and not torch.isfinite(y).all():
            log.warning("%s gave NaN in %s; re-running in float32", self.name, self.dtype)
            self.dtype = self.input_dtype = torch.float32
            self.model.float()
            y = fn(*(a.to(torch.float32) if isinstance(a, (torch.Tensor, CodeFormerFeatures)) else a for a in args))
        return y

    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        if next(self.model.parameters()).dtype != self.dtype:
            # The loader shares one model per file and device: another restorer (another engine
            # in this process) may have cast it since. Put it back in the dtype fed to it here.
            self._place_model()
        out = np.empty_like(faces, dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(faces), self.batch_size):
                x = self._to_tensor(faces[start : start + self.batch_size])
                out[start : start + len(x)] = self._to_numpy(self._run_checked(self._network, x, creativity))
        return out


class CodeFormerRestorer(SpandrelFaceRestorer):
    """CodeFormer with fidelity weight w = 1 - creativity, and a cacheable encoder half.

    In reduced precision only the decoder half runs in ``dtype``; the encoder half stays float32.
    """

    has_fidelity_input = True
    caches_encoder = True

    def _place_model(self) -> None:
        # The encoder half is never cast below float32 (a round trip would lose its precision):
        # the code choice stays that of float32, and the decoder (``dtype``) does the bulk.
        self.model.to(device=self.device).eval()
        use_codebook_lookup(self.model)
        run_decoder_in(self.model, self.dtype)
        self.input_dtype = torch.float32
        if self.channels_last:
            use_channels_last(self.model)

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

    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        return self.decode(self.encode(faces), creativity)


@dataclass(frozen=True)
class Architecture:
    """What Facemend does differently per spandrel face architecture: one row each, so a new
    architecture is a row here, not a branch in the code."""

    id: str  # spandrel's ``descriptor.architecture.id``
    #: one forward pass: N x 3 x 512 x 512 in [-1, 1] and the creativity -> the restored faces
    forward: Callable[[Any, torch.Tensor, float], torch.Tensor]
    #: measured faster with channels-last tensors on the CPU (1.1x GFPGAN, 1.25x CodeFormer in
    #: fp32; most of the bf16 gain needs it too). Off by default: some spandrel architectures
    #: ``view`` their feature maps, which channels-last breaks.
    channels_last: bool = False
    restorer: type[SpandrelFaceRestorer] = SpandrelFaceRestorer


ARCHITECTURES: dict[str, Architecture] = {
    a.id: a
    for a in (
        # randomize_noise=False: the StyleGAN noise stored with the weights, so output is
        # deterministic and does not depend on which faces share a batch.
        Architecture("GFPGAN", lambda m, x, c: m(x, return_rgb=False, randomize_noise=False)[0], channels_last=True),
        # fidelity weight w = 1 - creativity; encoder and decoder halves (CodeFormerRestorer)
        Architecture("CodeFormer", lambda m, x, c: m(x, weight=1.0 - c)[0], True, CodeFormerRestorer),
    )
}
#: any other spandrel face model (RestoreFormer, GPEN...): called with the face alone
GENERIC = Architecture("generic", lambda m, x, c: m(x)[0])


def architecture_of(descriptor: Any) -> Architecture:
    return ARCHITECTURES.get(descriptor.architecture.id, GENERIC)
