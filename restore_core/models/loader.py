"""Weights files to ready models: safe loading, spandrel architecture detection, a small cache.

Only data is ever unpickled: ``.pth`` files load with ``torch.load(weights_only=True)``, which
refuses pickles that would run code, and TorchScript archives (programs, not weights) are
refused before torch sees them. spandrel recognises the architecture from the state dict's
keys; the extra architectures (CodeFormer) are registered once.
"""

from __future__ import annotations

import functools
import re
import threading
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelError
from ..lru import LRUCache

if TYPE_CHECKING:
    import torch
    from spandrel import ImageModelDescriptor

PICKLE_SUFFIXES = (".pth", ".pt", ".ckpt")
SAFETENSORS_SUFFIX = ".safetensors"
#: Both face models and both upscalers at once; the face models are ~350 MB each.
CACHE_SIZE = 4

_lock = threading.Lock()  # one load at a time: two threads asking for a model load it once
_cache: LRUCache[tuple[str, int, int, str], ImageModelDescriptor[Any]] = LRUCache(CACHE_SIZE)


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, unwrapped (``params_ema``, ``module.`` prefixes...).

    ``.safetensors`` via safetensors; ``.pth``/``.pt``/``.ckpt`` via ``torch.load`` with
    ``weights_only=True`` on the CPU. Raises ``ModelError`` for TorchScript archives, pickles
    that would run code, and files that are not weights at all.
    """
    from spandrel import canonicalize_state_dict

    file = Path(path)
    if not file.is_file():
        raise ModelError(f"{file}: no such model file")
    suffix = file.suffix.lower()
    if suffix not in (SAFETENSORS_SUFFIX, *PICKLE_SUFFIXES):  # a renamed download: go by content
        suffix = SAFETENSORS_SUFFIX if _looks_like_safetensors(file) else PICKLE_SUFFIXES[0]
    raw = _load_safetensors(file) if suffix == SAFETENSORS_SUFFIX else _load_pickle(file)
    import torch

    if not isinstance(raw, dict):
        raise ModelError(f"{file}: holds a {type(raw).__name__}, not a dictionary of weights")
    tensors = {k: v for k, v in canonicalize_state_dict(raw).items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise ModelError(f"{file}: holds no weights")
    return tensors


def load_face_model(path: str | Path, device: torch.device) -> ImageModelDescriptor[Any]:
    """A face restoration model (GFPGAN, CodeFormer, RestoreFormer...) in eval mode on ``device``."""
    return _load_cached(Path(path), device, "FaceSR", "face restoration")


def take_face_model(path: str | Path, device: torch.device) -> ImageModelDescriptor[Any]:
    """A face model for the caller alone, loaded anew on the CPU (the caller moves it), so it
    may cast it to a reduced precision, which rounds its weights for good: whoever holds the
    shared model keeps the file's own float32 weights. The shared copy on ``device`` leaves the
    cache, so the two are not both kept there."""
    path = Path(path)
    with _lock:
        _cache.pop(_key(path, device))
        descriptor = _load_descriptor(path)
    _check_purpose(path, descriptor, "FaceSR", "face restoration")
    return descriptor


def load_upscaler(path: str | Path, device: torch.device) -> ImageModelDescriptor[Any]:
    """A super-resolution model (Real-ESRGAN...) in eval mode on ``device``."""
    return _load_cached(Path(path), device, "SR", "super-resolution (upscaling)")


def _load_cached(path: Path, device: torch.device, purpose: str, purpose_text: str) -> ImageModelDescriptor[Any]:
    """Load once per (file as it is now, device); least recently used entries go first."""
    key = _key(path, device)
    with _lock:
        descriptor = _cache.get(key)
        if descriptor is not None:
            _check_purpose(path, descriptor, purpose, purpose_text)
            return descriptor
        descriptor = _load_descriptor(path)
        _check_purpose(path, descriptor, purpose, purpose_text)
        descriptor.to(device)
        _cache.put(key, descriptor)
        return descriptor


def _key(path: Path, device: torch.device) -> tuple[str, int, int, str]:
    """The file as it is now (a replaced file loads anew) on ``device``."""
    try:
        st = path.stat()
    except OSError:
        raise ModelError(f"{path}: no such model file") from None
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, str(device))


def _load_descriptor(path: Path) -> ImageModelDescriptor[Any]:
    import spandrel

    _install_extra_arches()
    state_dict = load_state_dict(path)
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(state_dict)
    except spandrel.UnsupportedModelError:
        raise ModelError(f"{path}: not a model architecture Facemend knows (spandrel does not recognise it)") from None
    except Exception as exc:  # an architecture's own loading code fails in its own ways on odd shapes
        raise ModelError(f"{path}: looks like a {_arch_guess(state_dict)} model but cannot be loaded ({exc})") from exc
    if not isinstance(descriptor, spandrel.ImageModelDescriptor):
        raise ModelError(f"{path}: is a {descriptor.architecture.name} model, which Facemend cannot use")
    descriptor.eval()
    return descriptor


def _check_purpose(path: Path, descriptor: ImageModelDescriptor[Any], purpose: str, purpose_text: str) -> None:
    if descriptor.purpose != purpose:
        raise ModelError(f"{path}: is a {descriptor.architecture.name} model, not a {purpose_text} model")


def _arch_guess(state_dict: dict[str, Any]) -> str:
    import spandrel

    for support in spandrel.MAIN_REGISTRY:
        if support.detect(state_dict):
            return support.architecture.name
    return "known"


@functools.cache
def _install_extra_arches() -> None:
    import spandrel_extra_arches

    spandrel_extra_arches.install(ignore_duplicates=True)


def _load_safetensors(file: Path) -> dict[str, Any]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(file, device="cpu")
    except (SafetensorError, OSError) as exc:
        raise ModelError(f"{file}: not a readable safetensors file ({exc})") from exc


#: what a file that is not weights usually is, by its first bytes
_NOT_WEIGHTS = {
    b"\xff\xd8\xff": "a JPEG image",
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"RIFF": "a RIFF file (WebP, WAV...)",
    b"%PDF": "a PDF document",
    b"<": "an HTML or XML text",
    b"{": "a JSON text",
}


def _looks_like_safetensors(file: Path) -> bool:
    """safetensors: an 8-byte little-endian header length, then the JSON header."""
    with file.open("rb") as fh:
        return fh.read(9)[8:9] == b"{"


def _not_weights(file: Path) -> str | None:
    """Why ``file`` cannot be a PyTorch weights file, from its first bytes; None if it may be one.

    Torch writes a zip archive (since 1.6) or a pickle (protocol 2+, starting with 0x80)."""
    with file.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PK") or head[:1] == b"\x80":
        return None
    if not head:
        return "it is empty (0 bytes)"
    if not head.strip(b"\0"):
        return "its bytes are all zeros (an unfinished copy or download)"
    kind = next((name for magic, name in _NOT_WEIGHTS.items() if head.startswith(magic)), None)
    return f"it is {kind}" if kind else "its content is not a PyTorch archive"


def _load_pickle(file: Path) -> Any:
    import pickle

    import torch

    why = _not_weights(file)
    if why is not None:
        raise ModelError(f"{file}: is not a model file ({why})")
    if _is_torchscript(file):
        raise ModelError(f"{file}: is a TorchScript program, not a weights file; Facemend does not run TorchScript")
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Weights only load failed" in str(exc):
            # Torch's own advice (load with weights_only=False) would run the file's code: not repeated.
            raise ModelError(
                f"{file}: refused: the file holds Python code to run, not only weights ({_unsafe_detail(exc)})"
            ) from None
        raise ModelError(f"{file}: not a readable PyTorch weights file ({exc})") from exc
    except Exception as exc:  # torch.load fails on junk with KeyError, RuntimeError, EOFError...
        raise ModelError(f"{file}: not a readable PyTorch weights file ({type(exc).__name__}: {exc})") from exc


def _is_torchscript(file: Path) -> bool:
    # Same test as torch's own: a TorchScript zip has a constants.pkl record beside its code.
    if not zipfile.is_zipfile(file):
        return False
    try:
        with zipfile.ZipFile(file) as archive:
            return any(name == "constants.pkl" or name.endswith("/constants.pkl") for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def _unsafe_detail(exc: Exception) -> str:
    match = re.search(r"unsupported GLOBAL [\w.]+|Unsupported global: GLOBAL [\w.]+|Unsupported operand \d+", str(exc))
    return match.group(0) if match else "unsupported pickle content"


#: facexlib's published ParseNet: aligned 512 px faces in and out, 19 face-parsing classes
PARSENET_SIZE = 512
PARSENET_CLASSES = 19


def build_parsenet(state: dict[str, torch.Tensor], source: Path) -> torch.nn.Module:
    """facexlib's ParseNet with ``state`` loaded strictly, in eval mode on the CPU."""
    from facexlib.parsing.parsenet import ParseNet

    network = ParseNet(in_size=PARSENET_SIZE, out_size=PARSENET_SIZE, parsing_ch=PARSENET_CLASSES)
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"{source}: not facexlib's ParseNet weights ({first_line})") from None
    return network.eval()


#: RetinaFace detectors (registry names) and facexlib's names of their backbones.
RETINAFACE_NETWORKS = {"retinaface_resnet50": "resnet50", "retinaface_mobile0.25": "mobile0.25"}


def retinaface_network_of(state: dict[str, torch.Tensor], source: Path) -> str:
    """The detector name whose backbone the state dict's keys describe."""
    if any(k.startswith("body.layer") for k in state):
        return "retinaface_resnet50"
    if any(k.startswith("body.stage") for k in state):
        return "retinaface_mobile0.25"
    raise ModelError(f"{source}: not RetinaFace weights: neither a ResNet-50 nor a MobileNet-0.25 backbone")


def build_retinaface(name: str, state: dict[str, torch.Tensor], source: Path) -> torch.nn.Module:
    """facexlib's RetinaFace ``name`` with ``state`` loaded strictly, in eval mode on the CPU."""
    import warnings

    import torch
    from facexlib.detection.retinaface import RetinaFace

    with warnings.catch_warnings():
        # facexlib builds the ResNet with torchvision's deprecated ``pretrained=False``.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torchvision\.models\._utils")
        network = RetinaFace(network_name=RETINAFACE_NETWORKS[name], half=False, device=torch.device("cpu"))
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"{source}: the weights do not fit {name} ({first_line})") from None
    return network.eval()


def build_arcface(state: dict[str, torch.Tensor], source: Path) -> torch.nn.Module:
    """facexlib's ArcFace IR-SE-50 with ``state`` loaded strictly, in eval mode on the CPU."""
    from facexlib.recognition.arcface_arch import Backbone

    network = Backbone(num_layers=50, drop_ratio=0.6, mode="ir_se")
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"{source}: not facexlib's ArcFace IR-SE-50 weights ({first_line})") from None
    return network.eval()
