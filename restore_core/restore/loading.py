"""From a model name in the settings to a ready ``FaceRestorer`` on a backend and device."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelError
from .runner import FaceRestorer, Passthrough

if TYPE_CHECKING:
    import torch

    from .backends import Backend


def weights_for(name: str, *, allow_download: bool, progress: Callable[[int, int], None] | None = None) -> Path:
    """The weights file for a registry name (``gfpgan``, ``codeformer``) or a path."""
    from .. import models

    if name in models.MODELS:
        return models.require(name, allow_download=allow_download, progress=progress)
    path = Path(name).expanduser()
    if not path.is_file():
        raise ModelError(f"{name}: no such model file, and not a known model name ({', '.join(models.MODELS)})")
    return path


def load_restorer(
    name: str,
    device: torch.device,
    *,
    allow_download: bool,
    progress: Callable[[int, int], None] | None = None,
    backend: Backend | None = None,
    precision: str | None = None,
    cpu_only: bool = False,
) -> FaceRestorer:
    """``name`` on ``backend`` (default torch) and ``device``; ``precision`` None: the fastest
    there; ``cpu_only``: a converting backend stays off any accelerator it finds."""
    if name == "passthrough":
        return Passthrough()
    from .. import models
    from .backends import BACKENDS, backend_restorer, torch_cpu

    backend = backend or BACKENDS["torch"]
    path = weights_for(name, allow_download=allow_download, progress=progress)
    # Loaded where it will run (a converting backend exports it from the CPU), and shared.
    descriptor = models.load_face_model(path, torch_cpu() if backend.converts else device)
    licensed = models.licence_for_architecture(descriptor.architecture.id)
    if licensed is not None:  # by name or by path, downloaded or copied in: asked once, at first use
        models.require_licence(licensed)
    return backend_restorer(backend, path, device, name, precision=precision, cpu_only=cpu_only)
