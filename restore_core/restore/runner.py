"""Face models behind one interface: batches of aligned faces in, restored faces out.

Spandrel's generic ``descriptor(image)`` hands [0, 1] images straight to the network, but
GFPGAN, CodeFormer and the other face models were trained on [-1, 1] inputs and return
tuples; so each architecture says here (``ARCHITECTURES``) how its network is called. Every
backend (``backends``: torch itself, or a graph converted for OpenVINO or ONNX Runtime) calls
the network through these same functions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .codeformer import CodeFormerFeatures, decode, encode, run_decoder_in, use_codebook_lookup


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
    #: What runs it ("torch", "openvino", "onnxruntime"; "none" without a network) and how.
    backend: str = "none"
    precision: str = ""  # "fp32", "bf16"... ("fp32 encoder + bf16 decoder" for a split model)
    device_name: str = ""  # for people: "cpu", "cuda:0", "Intel(R) Xeon(R) ... (CPU)"

    @property
    def creativity_by_preconditioning(self) -> bool:
        """Whether creativity acts as input blur and noise: for networks without a fidelity
        input. Passthrough has no creativity: it must show the aligned face exactly."""
        return self.runs_network and not self.has_fidelity_input

    def preparation(self) -> str | None:
        """What ``prepare`` will do, for people ("Preparing GFPGAN for this CPU, once, about
        20 s"), or None when the model is ready to run."""
        return None

    def prepare(self) -> None:  # noqa: B027 - most restorers have nothing to prepare
        """Do the one-off work (a conversion) now rather than inside the first face."""

    @abstractmethod
    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        """``faces``: N x 512 x 512 x 3 float32 RGB in 0..1 -> the same shape, restored."""

    def encode(self, faces: np.ndarray) -> list[Any]:
        """Creativity-independent features, one opaque entry per face (``caches_encoder``)."""
        raise NotImplementedError(f"{self.name} has no encoder/decoder split")

    def decode(self, features: list[Any], creativity: float) -> np.ndarray:
        raise NotImplementedError(f"{self.name} has no encoder/decoder split")


class Passthrough(FaceRestorer):
    """No network: the aligned face goes straight back (checks alignment and paste-back)."""

    name = "passthrough"
    runs_network = False
    batch_size = 16  # no model pass to report between

    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        return faces


@dataclass(frozen=True)
class FeatureSplit:
    """A network cut where creativity first matters: ``encode`` once per face, ``decode`` for
    any creativity; ``decode(encode(x), c)`` gives the whole network's pixels."""

    #: model, N x 3 x 512 x 512 in [-1, 1] -> the creativity-independent features
    encode: Callable[[Any, torch.Tensor], CodeFormerFeatures]
    #: model, features, creativity (a float, or a 0-d tensor in an exported graph) -> faces in [-1, 1]
    decode: Callable[[Any, CodeFormerFeatures, float | torch.Tensor], torch.Tensor]
    #: the model in float32 except its decoder half, in the dtype given (reduced precision never
    #: touches what ``encode`` computes)
    place: Callable[[Any, torch.dtype], None]
    #: features as a flat tuple of tensors and back (an exported graph's outputs and inputs)
    to_tensors: Callable[[CodeFormerFeatures], tuple[torch.Tensor, ...]]
    from_tensors: Callable[[Any, tuple[torch.Tensor, ...]], CodeFormerFeatures]


def _place_codeformer(model: Any, dtype: torch.dtype) -> None:
    use_codebook_lookup(model)
    run_decoder_in(model, dtype)


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
    #: the model takes a fidelity weight (w = 1 - creativity)
    fidelity_input: bool = False
    split: FeatureSplit | None = None


ARCHITECTURES: dict[str, Architecture] = {
    a.id: a
    for a in (
        # randomize_noise=False: the StyleGAN noise stored with the weights, so output is
        # deterministic and does not depend on which faces share a batch.
        Architecture("GFPGAN", lambda m, x, c: m(x, return_rgb=False, randomize_noise=False)[0], channels_last=True),
        Architecture(
            "CodeFormer",
            lambda m, x, c: m(x, weight=1.0 - c)[0],
            channels_last=True,
            fidelity_input=True,
            split=FeatureSplit(
                encode,
                lambda m, features, c: decode(m, features, 1.0 - c),
                _place_codeformer,
                CodeFormerFeatures.to_tensors,
                CodeFormerFeatures.from_tensors,
            ),
        ),
    )
}
#: any other spandrel face model (RestoreFormer, GPEN...): called with the face alone
GENERIC = Architecture("generic", lambda m, x, c: m(x)[0])


def architecture_of(descriptor: Any) -> Architecture:
    return ARCHITECTURES.get(descriptor.architecture.id, GENERIC)
