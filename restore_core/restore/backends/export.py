"""The spandrel network as exportable graphs: the whole network, or a split model's encoder and decoder.

``torch.export`` (not tracing, which fails on CodeFormer's code lookup) captures exactly the
functions the torch backend calls (the architecture's row in ``runner.ARCHITECTURES``), so
every backend computes the same thing. Graphs have static shapes: ``batch`` 512 x 512 faces.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import torch

from ...align import ALIGNED_SIZE
from ..runner import Architecture, FeatureSplit

Part = Literal["whole", "encoder", "decoder"]


def parts_of(architecture: Architecture) -> tuple[Part, ...]:
    return ("encoder", "decoder") if architecture.split is not None else ("whole",)


def input_shape(batch: int) -> tuple[int, int, int, int]:
    return (batch, 3, ALIGNED_SIZE, ALIGNED_SIZE)


class _Whole(torch.nn.Module):
    """Faces in [-1, 1] -> faces, for a network without a fidelity input (creativity acts on its
    input, as pre-conditioning; a network with one has a split)."""

    def __init__(self, model: torch.nn.Module, architecture: Architecture) -> None:
        super().__init__()
        self.model, self.architecture = model, architecture

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.architecture.forward(self.model, x, 0.0)


class _Encoder(torch.nn.Module):
    def __init__(self, model: torch.nn.Module, split: FeatureSplit) -> None:
        super().__init__()
        self.model, self.split = model, split

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.split.to_tensors(self.split.encode(self.model, x))


class _Decoder(torch.nn.Module):
    def __init__(self, model: torch.nn.Module, split: FeatureSplit) -> None:
        super().__init__()
        self.model, self.split = model, split

    def forward(self, creativity: torch.Tensor, *features: torch.Tensor) -> torch.Tensor:
        return self.split.decode(self.model, self.split.from_tensors(self.model, features), creativity)


def export_part(
    model: Any, architecture: Architecture, part: Part, batch: int, dtype: torch.dtype = torch.float32
) -> torch.export.ExportedProgram:
    """``part`` of ``model`` as an ExportedProgram in ``dtype``, for ``batch`` faces.

    Works on a private float copy on the CPU: the loader shares ``model`` with torch restorers,
    which may hold it in bf16, channels-last or on a GPU. A split model's encoder is always
    float32 (the code lookup stays exactly torch's).
    """
    model = copy.deepcopy(model).to(device="cpu", dtype=torch.float32).eval()
    x = torch.zeros(input_shape(batch))
    with torch.inference_mode(False), torch.no_grad():
        if part == "whole":
            return torch.export.export(_Whole(model.to(dtype), architecture), (x.to(dtype),))
        split = architecture.split
        if split is None:
            raise ValueError(f"{architecture.id} has no {part}")
        encoder = torch.export.export(_Encoder(model, split), (x,))
        if part == "encoder":
            return encoder
        # The decoder's example inputs: zeros shaped as the encoder's outputs (no compute needed).
        output = next(node for node in encoder.graph.nodes if node.op == "output")
        features = tuple(torch.zeros(tuple(node.meta["val"].shape), dtype=dtype) for node in output.args[0])
        return torch.export.export(_Decoder(model.to(dtype), split), (torch.tensor(0.0, dtype=dtype), *features))


def example_shapes(program: torch.export.ExportedProgram) -> list[tuple[int, ...]]:
    """The shapes of the user inputs ``program`` was exported with."""
    placeholders = {node.name: node for node in program.graph.nodes if node.op == "placeholder"}
    return [tuple(placeholders[name].meta["val"].shape) for name in program.graph_signature.user_inputs]
