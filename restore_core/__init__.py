"""Facemend's headless core: decode, detect, align, restore, compose, encode.

No Qt and nothing from ``app`` is imported here (a test enforces it). Heavy modules
(torch, facexlib, spandrel) load lazily, on first use.
"""

from .errors import FacemendError, InputError, ModelError, OutputError, OutputExistsError, SettingsError
from .faces import DetectedFace
from .params import DetectionSettings, FaceOverride, FaceSettings, GrainSettings, OutputSettings, Settings

__version__ = "0.1.0"
__licence__ = "Apache-2.0"  # pyproject's licence (a test keeps the two equal)

__all__ = [
    "DetectedFace",
    "DetectionSettings",
    "FaceOverride",
    "FaceSettings",
    "FacemendError",
    "GrainSettings",
    "InputError",
    "ModelError",
    "OutputError",
    "OutputExistsError",
    "OutputSettings",
    "Settings",
    "SettingsError",
    "__licence__",
    "__version__",
]
