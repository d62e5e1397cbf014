"""Face models run as graphs converted from the spandrel network (OpenVINO, ONNX Runtime).

The graphs are converted at first use and cached on disk (``cache``); a split model gets two,
its encoder (always fp32: the code lookup stays exactly torch's) and its decoder (in the
restorer's precision), so a creativity change runs the decoder only, as on torch. What differs
between runtimes (where they run, what they store, how they load) is a ``Runtime``.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import ModelError
from ..runner import Architecture, FaceRestorer
from . import cache
from .export import Part, export_part, input_shape, parts_of
from .precision import Precision, checked_precision, fastest_precision, torch_dtype

log = logging.getLogger(__name__)

#: A loaded graph: its inputs in order -> its outputs in order (float32).
Graph = Callable[[Sequence[np.ndarray]], list[np.ndarray]]
#: Export and conversion time per million parameters, measured on 2 CPU cores (GFPGAN, 76 M
#: parameters: 7 s for OpenVINO, 10 s for ONNX Runtime); the message rounds up to 5 s.
SECONDS_PER_MILLION_PARAMETERS = 0.13
#: Faces per graph run on an accelerator (static shapes: a last, partial batch is padded).
ACCELERATOR_BATCH = 4


class Runtime(ABC):
    """What one runtime does for a converted model: choose its device, write and load graphs."""

    backend: str  # the ``backend`` setting's value
    version: str  # part of the cache key: a new runtime converts again
    recipe: str  # how ``write`` writes its files, part of the cache key
    device_name: str  # for people: "Intel(R) Xeon(R) ... (CPU)"
    accelerator: bool  # a GPU or NPU (batches of faces, half precision where allowed)

    @abstractmethod
    def offered(self) -> tuple[Precision, ...]:
        """The precisions this runtime computes on its device."""

    @abstractmethod
    def stored_precision(self, precision: Precision) -> Precision:
        """The precision written into the files for a graph run in ``precision``."""

    @abstractmethod
    def write(self, program: torch.export.ExportedProgram, folder: Path) -> None:
        """Convert an exported graph and write it into ``folder``."""

    @abstractmethod
    def load(self, folder: Path, precision: Precision) -> Graph:
        """A runnable graph from a folder ``write`` filled, computing in ``precision``."""


class ConvertedFaceRestorer(FaceRestorer):
    """A spandrel face model on a ``Runtime``: batches, normalisation, the split, the cache and
    the float32 re-run on NaN. ``precision`` None: the fastest the device computes."""

    def __init__(
        self,
        descriptor: Any,
        name: str,
        architecture: Architecture,
        weights_sha256: str,
        runtime: Runtime,
        precision: str | None = None,
    ) -> None:
        if architecture.fidelity_input and architecture.split is None:
            raise ModelError(f"{descriptor.architecture.name} runs on the torch backend only (use --backend torch)")
        self.descriptor = descriptor
        self.model = descriptor.model
        self.name = name
        self.architecture = architecture
        self.weights_sha256 = weights_sha256
        self.runtime = runtime
        self.backend = runtime.backend
        self.device_name = runtime.device_name
        self.has_fidelity_input = architecture.fidelity_input
        self.caches_encoder = architecture.split is not None
        offered = runtime.offered()
        if precision is None:
            self._precision = fastest_precision(descriptor, accelerator=runtime.accelerator, offered=offered)
        else:
            where = f"the {runtime.backend} backend ({runtime.device_name})"
            self._precision = checked_precision(precision, descriptor, offered, where)
        self.batch_size = ACCELERATOR_BATCH if runtime.accelerator else 1
        self._graphs: dict[Part, Graph] = {}

    @property
    def precision(self) -> str:  # type: ignore[override]
        if self.architecture.split is None or self._precision == "fp32":
            return self._precision
        return f"fp32 encoder + {self._precision} decoder"

    # ----- conversion and cache ------------------------------------------------------------------
    def _part_precision(self, part: Part) -> Precision:
        return "fp32" if part == "encoder" else self._precision

    def _key(self, part: Part) -> cache.CacheKey:
        return cache.CacheKey(
            weights_sha256=self.weights_sha256,
            architecture=self.architecture.id,
            part=part,
            backend=self.runtime.backend,
            backend_version=self.runtime.version,
            precision=self.runtime.stored_precision(self._part_precision(part)),
            input_shape=input_shape(self.batch_size),
            recipe=self.runtime.recipe,
        )

    def preparation(self) -> str | None:
        parts = parts_of(self.architecture)
        missing = [p for p in parts if p not in self._graphs and cache.lookup(self._key(p)) is None]
        if not missing:
            return None
        millions = sum(p.numel() for p in self.model.parameters()) / 1e6
        seconds = millions * SECONDS_PER_MILLION_PARAMETERS * len(missing) / len(parts)
        where = "this CPU" if not self.runtime.accelerator else self.device_name
        title = self.descriptor.architecture.name
        return f"Preparing {title} for {where}, once, about {5 * max(1, math.ceil(seconds / 5))} s"

    def prepare(self) -> None:
        for part in parts_of(self.architecture):
            self._graph(part)

    def _graph(self, part: Part) -> Graph:
        if part not in self._graphs:
            key = self._key(part)
            folder = cache.lookup(key) or cache.store(key, lambda target: self._convert(part, target))
            try:
                graph = self.runtime.load(folder, self._part_precision(part))
            except Exception as exc:  # noqa: BLE001 - the runtime refuses files that passed the manifest check
                log.warning("cannot load %s (%s): converting again", folder, exc)
                cache.remove(folder)
                folder = cache.store(key, lambda target: self._convert(part, target))
                graph = self.runtime.load(folder, self._part_precision(part))
            self._graphs[part] = graph
        return self._graphs[part]

    def _convert(self, part: Part, folder: Path) -> None:
        dtype = torch_dtype(self.runtime.stored_precision(self._part_precision(part)))
        log.info("converting %s %s for %s", self.architecture.id, part, self.runtime.backend)
        self.runtime.write(export_part(self.model, self.architecture, part, self.batch_size, dtype), folder)

    # ----- running ---------------------------------------------------------------------------------
    def _padded(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each array's batch filled up to ``batch_size`` with zeros (graphs have static shapes)."""
        count = len(arrays[0])
        if count == self.batch_size:
            return list(arrays)
        return [np.pad(a, [(0, self.batch_size - count)] + [(0, 0)] * (a.ndim - 1)) for a in arrays]

    def _run(self, part: Part, inputs: list[np.ndarray], count: int) -> list[np.ndarray]:
        """``part`` on a batch of ``count`` faces; in reduced precision a non-finite output
        switches the restorer to float32 for good and runs again."""
        outputs = self._graph(part)(inputs)
        if self._part_precision(part) != "fp32" and not np.isfinite(outputs[0][:count]).all():
            log.warning("%s gave NaN in %s; re-running in float32", self.name, self._precision)
            self._precision = "fp32"
            self._graphs.clear()
            outputs = self._graph(part)(inputs)
        return [o[:count] for o in outputs]

    def _batches(self, count: int) -> list[slice]:
        return [slice(start, min(start + self.batch_size, count)) for start in range(0, count, self.batch_size)]

    def restore(self, faces: np.ndarray, creativity: float) -> np.ndarray:
        if self.caches_encoder:
            return self.decode(self.encode(faces), creativity)
        out = np.empty_like(faces, dtype=np.float32)
        for part in self._batches(len(faces)):
            x = _to_network(faces[part])
            out[part] = _to_pixels(self._run("whole", self._padded([x]), len(x))[0])
        return out

    def encode(self, faces: np.ndarray) -> list[Any]:
        """Per face, the encoder graph's outputs (numpy, batch of one)."""
        features: list[tuple[np.ndarray, ...]] = []
        for part in self._batches(len(faces)):
            x = _to_network(faces[part])
            tensors = self._run("encoder", self._padded([x]), len(x))
            features.extend(tuple(t[i : i + 1] for t in tensors) for i in range(len(x)))
        return features

    def decode(self, features: list[Any], creativity: float) -> np.ndarray:
        outputs = []
        for part in self._batches(len(features)):
            chunk = features[part]
            tensors = [np.concatenate(column) for column in zip(*chunk, strict=True)]
            inputs = [np.array(creativity, dtype=np.float32), *self._padded(tensors)]
            outputs.append(_to_pixels(self._run("decoder", inputs, len(chunk))[0]))
        return np.concatenate(outputs)


def _to_network(faces: np.ndarray) -> np.ndarray:
    """N x H x W x 3 in 0..1 -> N x 3 x H x W in [-1, 1], float32."""
    return np.ascontiguousarray(faces.transpose(0, 3, 1, 2), dtype=np.float32) * np.float32(2) - np.float32(1)


def _to_pixels(y: np.ndarray) -> np.ndarray:
    """N x 3 x H x W in [-1, 1] -> N x H x W x 3 in 0..1."""
    return np.clip((y.astype(np.float32).transpose(0, 2, 3, 1) + 1) / 2, 0, 1)
