"""The models folder: where weights live, whether each file is the published one, imports.

A file is ``installed`` when its SHA-256 matches the registry, ``unverified`` when it is there
but differs (still used: a user's own copy of a model is theirs to choose) and ``missing``
otherwise. Hashing hundreds of MB on every status call is slow, so each file's hash is kept
in a small JSON cache in the folder, valid while the file's size and mtime are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO

from ..errors import ModelError, ModelInPlaceError, UnknownModelError
from .registry import MODELS, ModelKind, ModelSpec, spec

HASH_CACHE_NAME = ".facemend-hashes.json"
CHUNK = 1 << 20
_cache_lock = threading.Lock()


class ModelStatus(str, Enum):
    INSTALLED = "installed"
    UNVERIFIED = "unverified"
    MISSING = "missing"


@dataclass(frozen=True)
class ImportedModel:
    """What ``import_file`` did: which registry entry the file became, where, and its status."""

    spec: ModelSpec
    path: Path
    status: ModelStatus


def models_dir() -> Path:
    """``FACEMEND_MODELS`` when set, else the user data folder; never site-packages or the cwd."""
    override = os.environ.get("FACEMEND_MODELS")
    if override:
        return Path(override).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_data_dir("Facemend", appauthor=False)) / "models"


def model_path(name_or_spec: str | ModelSpec) -> Path:
    """Where the file of a registry entry lives (whether or not it is there)."""
    return models_dir() / _spec_of(name_or_spec).filename


def find(name: str) -> Path | None:
    """The file of ``name`` if it is in the models folder (verified or not), else None."""
    path = model_path(name)
    return path if path.is_file() else None


def installed(kind: ModelKind) -> list[str]:
    """The registry models of ``kind`` whose files are in the models folder, in registry order."""
    return [name for name, model in MODELS.items() if model.kind == kind and find(name) is not None]


def status(name: str, *, rehash: bool = False) -> ModelStatus:
    """Installed, unverified or missing; ``rehash`` ignores the cached hash and re-reads the file."""
    model = spec(name)
    path = model_path(model)
    if not path.is_file():
        return ModelStatus.MISSING
    if model.size is not None and path.stat().st_size != model.size:
        return ModelStatus.UNVERIFIED
    digest = None if rehash else _cached_hash(path)
    if digest is None:
        digest = file_sha256(path)
        remember_hash(path, digest)
    return ModelStatus.INSTALLED if digest == model.sha256 else ModelStatus.UNVERIFIED


def statuses() -> dict[str, ModelStatus]:
    """The status of every registry entry, by name, in registry order."""
    return {name: status(name) for name in MODELS}


def verify(name: str) -> ModelStatus:
    """Re-hash the file of ``name`` (ignoring the cache) and return its status."""
    return status(name, rehash=True)


def unverified_note(name: str) -> str | None:
    """A line for the user when the file of registry model ``name`` is not the published one
    (None when it is, or when ``name`` is not a registry model)."""
    if name not in MODELS or status(name) is not ModelStatus.UNVERIFIED:
        return None
    path = model_path(name)
    return (
        f"model {name}: {path} is not the published file (its checksum differs) and was used as it is; "
        f"for the published one run `facemend-cli models download {name}`"
    )


def import_file(path: str | Path, name: str | None = None, *, force: bool = False) -> ImportedModel:
    """Copy a local weights file into the models folder under its registry file name.

    The entry is ``name`` when given, else the one whose file name matches, else the one whose
    hash matches. A file that is not the published one must load as that kind of model (a
    JPEG, a detector or a pickle with code is never a GFPGAN). A different file already in
    place is replaced only with ``force``, and kept beside it as ``NAME.previous``. The copy
    goes to a temporary file in the folder, then is renamed into place.
    """
    source = Path(path).expanduser()
    if not source.is_file():
        raise ModelError(f"{source}: no such file to import")
    chosen = spec(name) if name is not None else _spec_by_filename(source.name)
    target_dir = models_dir()
    if chosen is not None and _same_file(source, target_dir / chosen.filename):
        return ImportedModel(chosen, source, verify(chosen.name))

    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target_dir, prefix=".import-", suffix=".part", delete=False) as tmp:
        temp_path = Path(tmp.name)
        try:
            with source.open("rb") as src:
                digest = _copy_hashing(src, tmp)
        except BaseException:
            tmp.close()
            temp_path.unlink(missing_ok=True)
            raise
    if chosen is None:
        chosen = next((m for m in MODELS.values() if m.sha256 == digest), None)
    if chosen is None:
        temp_path.unlink()
        raise UnknownModelError(
            f"{source}: cannot tell which model this is: its name matches none of "
            f"{', '.join(m.filename for m in MODELS.values())} and its sha256 {digest} matches no known "
            "model; say which model it is (facemend-cli models import FILE --name NAME)"
        )
    target = target_dir / chosen.filename
    try:
        if digest != chosen.sha256:
            check_loads_as(source, chosen)
        if target.exists() and file_sha256(target) != digest:
            if not force:
                raise ModelInPlaceError(
                    f"{target} already holds a {chosen.title} file ({status(chosen.name).value}); "
                    f"nothing was replaced. To replace it (the old file is kept as {target.name}.previous) "
                    f"run: facemend-cli models import {source} --name {chosen.name} --force",
                    target,
                    chosen.title,
                )
            os.replace(target, target.with_name(target.name + ".previous"))
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    os.chmod(temp_path, 0o644)  # temporary files are private; a model file is an ordinary file
    os.replace(temp_path, target)
    remember_hash(target, digest)
    return ImportedModel(chosen, target, ModelStatus.INSTALLED if digest == chosen.sha256 else ModelStatus.UNVERIFIED)


def check_loads_as(path: Path, model: ModelSpec) -> None:
    """Raise ``ModelError`` unless ``path`` loads (safely) as the kind of model ``model`` is."""
    from . import loader

    try:
        if model.kind in ("face", "upscaler"):
            import torch

            load = loader.load_face_model if model.kind == "face" else loader.load_upscaler
            load(path, torch.device("cpu"))
        else:
            state = loader.load_state_dict(path)
            if model.kind == "parsing":
                loader.build_parsenet(state, path)
            elif model.kind == "detector":
                loader.build_retinaface(model.name, state, path)
            else:  # identity
                loader.build_arcface(state, path)
    except ModelError as exc:
        reason = str(exc).removeprefix(f"{path}: ")
        raise ModelError(f"{path}: cannot be imported as {model.title}: {reason}") from None


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return _copy_hashing(f, None)


def weights_sha256(path: Path) -> str:
    """The SHA-256 of a weights file: the models folder's remembered hash while the file is
    unchanged, else read (and remembered, for files in the models folder)."""
    digest = _cached_hash(path)
    if digest is None:
        digest = file_sha256(path)
        if path.parent.resolve() == models_dir().resolve():
            remember_hash(path, digest)
    return digest


def remember_hash(path: Path, digest: str) -> None:
    """Record ``digest`` as the hash of ``path`` as it is now (size and mtime)."""
    st = path.stat()
    with _cache_lock:
        cache = _read_cache(path.parent)
        cache[path.name] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
        _write_cache(path.parent, cache)


def _cached_hash(path: Path) -> str | None:
    st = path.stat()
    with _cache_lock:
        entry = _read_cache(path.parent).get(path.name)
    if isinstance(entry, dict) and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
        digest = entry.get("sha256")
        return digest if isinstance(digest, str) else None
    return None


def _read_cache(folder: Path) -> dict[str, object]:
    try:
        data = json.loads((folder / HASH_CACHE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no cache yet, or a damaged one: hashes are simply computed again
    return data if isinstance(data, dict) else {}


def _write_cache(folder: Path, cache: dict[str, object]) -> None:
    try:
        fd, temp_name = tempfile.mkstemp(dir=folder, prefix=".hashes-", suffix=".part")
    except OSError:
        return  # a read-only models folder still works; it only means hashing again next time
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as tmp:
            json.dump(cache, tmp, indent=1, sort_keys=True)
        os.replace(temp_name, folder / HASH_CACHE_NAME)
    except OSError:
        Path(temp_name).unlink(missing_ok=True)


def _copy_hashing(src: IO[bytes], dst: IO[bytes] | None) -> str:
    digest = hashlib.sha256()
    while chunk := src.read(CHUNK):
        digest.update(chunk)
        if dst is not None:
            dst.write(chunk)
    return digest.hexdigest()


def _spec_of(name_or_spec: str | ModelSpec) -> ModelSpec:
    return name_or_spec if isinstance(name_or_spec, ModelSpec) else spec(name_or_spec)


def _spec_by_filename(filename: str) -> ModelSpec | None:
    return next((m for m in MODELS.values() if m.filename.lower() == filename.lower()), None)


def _same_file(a: Path, b: Path) -> bool:
    return b.exists() and os.path.samefile(a, b)
