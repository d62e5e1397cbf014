"""From a model name in the settings to a ready ``FaceRestorer`` on a device."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelError
from .runner import FaceRestorer, Passthrough

if TYPE_CHECKING:
    import torch


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
    precision: str | None = None,
) -> FaceRestorer:
    """``name`` on ``device``; ``precision`` None: the fastest there."""
    if name == "passthrough":
        return Passthrough()
    from .. import models
    from .backends.torch_backend import torch_restorer

    path = weights_for(name, allow_download=allow_download, progress=progress)
    descriptor = models.load_face_model(path, device)
    licensed = models.licence_for_architecture(descriptor.architecture.id)
    if licensed is not None:  # by name or by path, downloaded or copied in: asked once, at first use
        models.require_licence(licensed)
    return torch_restorer(path, device, name, precision)
