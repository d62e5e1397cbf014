"""Where face models run: torch itself, or OpenVINO or ONNX Runtime on a graph converted from it.

``BACKENDS`` holds one frozen descriptor per backend (what it runs on, whether it converts the
model first, how to install it); ``resolve_backend`` turns the ``backend`` and ``device``
settings into one of them; ``backend_restorer`` gives a ready ``FaceRestorer`` for a loaded
spandrel model. Importing this package imports no runtime.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from ...errors import ModelError, SettingsError
from ...params import Backend as BackendSetting
from .precision import cpu_computes_bf16

if TYPE_CHECKING:
    import torch

    from ..runner import FaceRestorer
    from .converted import Runtime


@dataclass(frozen=True)
class Backend:
    """One inference runtime and what it can do."""

    name: str  # the ``backend`` setting's value
    title: str  # for people: "OpenVINO"
    module: str  # the Python module that must import for it to be available
    where: str  # where it runs, for the README and error messages
    install: str  # how to get it when it is missing
    #: "module:Class" of its ``converted.Runtime`` in this package; None: torch runs the model itself
    runtime: str | None = None

    @property
    def converts(self) -> bool:
        """The model is converted from the spandrel network at first use (then cached on disk)."""
        return self.runtime is not None

    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def open_runtime(self, descriptor: Any, *, cpu_only: bool) -> Runtime:
        assert self.runtime is not None, f"{self.name} runs models in torch itself"
        module_name, class_name = self.runtime.split(":")
        module = importlib.import_module(f".{module_name}", __package__)
        runtime: Runtime = getattr(module, class_name)(descriptor, cpu_only=cpu_only)
        return runtime


BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (
        Backend("torch", "PyTorch", "torch", "NVIDIA GPUs (CUDA), Apple GPUs (MPS), any CPU", "included"),
        Backend(
            "openvino",
            "OpenVINO",
            "openvino",
            "x86 and ARM CPUs; Intel GPUs and NPUs where OpenVINO finds one",
            "included where OpenVINO publishes wheels (Windows, macOS, Linux x86-64 and ARM64); "
            "elsewhere it cannot be installed",
            "openvino_backend:OpenVINORuntime",
        ),
        Backend(
            "onnxruntime",
            "ONNX Runtime",
            "onnxruntime",
            "any CPU; AMD, Intel and NVIDIA GPUs on Windows (DirectML); Apple GPUs (CoreML)",
            "pip install 'facemend[onnx]' (GPUs on Windows: 'facemend[directml]')",
            "onnxruntime_backend:OnnxRuntime",
        ),
    )
}
BACKEND_CHOICES: tuple[str, ...] = get_args(BackendSetting)
#: ``auto`` on a CPU, best first: OpenVINO's CPU kernels run these networks faster than torch's
#: (measured in docs/benchmarks.md), in fp32 and in bf16 where the CPU computes it.
CPU_PREFERENCE = ("openvino", "torch")


def resolve_backend(preference: str, device_setting: str, device: torch.device) -> Backend:
    """The backend for the ``backend`` setting, given the ``device`` setting and the torch device
    it resolved to. ``auto``: torch on CUDA and MPS, OpenVINO on a CPU when it is installed,
    torch otherwise. A named backend must be installed and able to run on the device asked for."""
    if preference not in BACKEND_CHOICES:
        raise SettingsError(f"backend must be one of {', '.join(BACKEND_CHOICES)}, got {preference!r}")
    if preference == "auto":
        if device.type != "cpu":
            return BACKENDS["torch"]
        return next(BACKENDS[name] for name in CPU_PREFERENCE if BACKENDS[name].available())
    backend = BACKENDS[preference]
    if not backend.available():
        raise ModelError(f"the {backend.title} backend is not installed: {backend.install}")
    if backend.converts and device_setting not in ("auto", "cpu"):
        raise SettingsError(
            f"the {backend.title} backend runs on {backend.where}, not on device {device_setting!r}: "
            f"choose --backend torch for {device_setting}, or --device auto"
        )
    return backend


def backend_restorer(
    backend: Backend,
    weights: Path,
    device: torch.device,
    name: str,
    *,
    precision: str | None = None,
    cpu_only: bool = False,
) -> FaceRestorer:
    """The face model in file ``weights`` on ``backend`` and ``device`` (``precision`` None: the
    fastest there); ``cpu_only`` keeps a converting backend off any accelerator it finds."""
    from ... import models
    from ..runner import architecture_of

    if not backend.converts:
        from .torch_backend import torch_restorer

        return torch_restorer(weights, device, name, precision)
    from .converted import ConvertedFaceRestorer

    # The network is needed on the CPU only, to export it once; the shared model is float32's.
    descriptor = models.load_face_model(weights, torch_cpu())
    runtime = backend.open_runtime(descriptor, cpu_only=cpu_only)
    digest = models.weights_sha256(weights)
    return ConvertedFaceRestorer(descriptor, name, architecture_of(descriptor), digest, runtime, precision)


def torch_cpu() -> torch.device:
    import torch

    return torch.device("cpu")


__all__ = [
    "BACKENDS",
    "BACKEND_CHOICES",
    "CPU_PREFERENCE",
    "Backend",
    "backend_restorer",
    "cpu_computes_bf16",
    "resolve_backend",
    "torch_cpu",
]
