"""Model weights: the registry, the models folder, downloads, safe loading, device choice.

Importing this package stays light: torch, spandrel and safetensors load inside the
functions that need them.
"""

from .device import DeviceInfo, available_devices, describe_device, select_device
from .downloads import Progress, download, download_url, require
from .licences import (
    accept_licence,
    licence_accepted,
    licence_for_architecture,
    licence_required_message,
    needs_licence,
    require_licence,
)
from .loader import (
    RETINAFACE_NETWORKS,
    build_arcface,
    build_parsenet,
    build_retinaface,
    load_face_model,
    load_state_dict,
    load_upscaler,
    retinaface_network_of,
    take_face_model,
)
from .registry import DEFAULT_FACE_MODEL, MODELS, FacePrior, ModelKind, ModelSpec, face_models, spec
from .store import (
    ImportedModel,
    ModelStatus,
    find,
    import_file,
    installed,
    model_path,
    models_dir,
    status,
    statuses,
    unverified_note,
    verify,
    weights_sha256,
)

__all__ = [
    "DEFAULT_FACE_MODEL",
    "MODELS",
    "RETINAFACE_NETWORKS",
    "DeviceInfo",
    "FacePrior",
    "ImportedModel",
    "ModelKind",
    "ModelSpec",
    "ModelStatus",
    "Progress",
    "accept_licence",
    "available_devices",
    "build_arcface",
    "build_parsenet",
    "build_retinaface",
    "describe_device",
    "download",
    "download_url",
    "face_models",
    "find",
    "import_file",
    "installed",
    "licence_accepted",
    "licence_for_architecture",
    "licence_required_message",
    "load_face_model",
    "load_state_dict",
    "load_upscaler",
    "model_path",
    "models_dir",
    "needs_licence",
    "require",
    "require_licence",
    "retinaface_network_of",
    "select_device",
    "spec",
    "status",
    "statuses",
    "take_face_model",
    "unverified_note",
    "verify",
    "weights_sha256",
]
