"""Running face models on aligned crops: loading, batching, creativity, pre-conditioning.

The torch-backed names load on first access, so the engine (and the GUI thread that
imports it) can use the light helpers without importing torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .auto import choose_model, sharpness
from .parsing import PARSING_MODEL, FaceParser, load_face_parser, parser_available, parser_missing_message
from .precondition import Preconditioning, preconditioning_for

_LAZY = {
    "FaceRestorer": "runner",
    "Passthrough": "runner",
    "ARCHITECTURES": "runner",
    "SpandrelFaceRestorer": "backends.torch_backend",
    "SplitFaceRestorer": "backends.torch_backend",
    "load_restorer": "loading",
    "weights_for": "loading",
    "tile_upscaler": "upscaler",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [  # noqa: PLE0604
    "PARSING_MODEL",
    "FaceParser",
    "Preconditioning",
    "choose_model",
    "load_face_parser",
    "parser_available",
    "parser_missing_message",
    "preconditioning_for",
    "sharpness",
    *_LAZY,
]
