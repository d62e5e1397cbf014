"""Converted models on disk: one folder per key, written atomically, checked before use.

A converted model is never shipped: it is made from the user's own weights at first use and
kept under the user cache folder (``FACEMEND_CACHE`` overrides it, for tests and portable
installs). The key names everything the files depend on: the weights' SHA-256, the
architecture and graph part, the backend and its version, the precision stored in the files,
the input shape and the conversion recipe. Each folder holds a manifest (the key, and every
file's size and SHA-256) written last; an entry whose manifest is missing, unreadable, for
another key, or whose files differ from it (a crash, a full disk, a hand edit) is removed and
converted again, never used. Entries for the same weights and part made by an older backend
or recipe are removed when their successor is stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "FACEMEND_CACHE"
MANIFEST = "manifest.json"
#: Bumped whenever the conversion writes something different for the same key.
FORMAT = 1
_CHUNK = 1 << 22


@dataclass(frozen=True)
class CacheKey:
    weights_sha256: str
    architecture: str
    part: str  # whole, encoder, decoder
    backend: str
    backend_version: str
    precision: str  # of the stored graph (OpenVINO picks its run precision when it compiles)
    input_shape: tuple[int, ...]
    recipe: str  # how the backend writes its files (e.g. the ONNX opset)
    format: int = FORMAT

    @property
    def family(self) -> str:
        """What the entry is, whoever made it: entries of one family replace each other."""
        shape = "x".join(map(str, self.input_shape))
        return f"{self.architecture}-{self.part}-{self.backend}-{self.precision}-{shape}-{self.weights_sha256[:16]}"

    def folder_name(self) -> str:
        """Readable, and unique by a digest of the whole key."""
        digest = hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:12]
        return f"{self.family}-{digest}"

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["input_shape"] = list(self.input_shape)
        return data


def cache_root() -> Path:
    """The folder of converted models: ``$FACEMEND_CACHE/converted``, else the user cache folder's."""
    override = os.environ.get(ENV)
    if override:
        return Path(override).expanduser().absolute() / "converted"
    import platformdirs

    return Path(platformdirs.user_cache_dir("Facemend", appauthor=False)) / "converted"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def lookup(key: CacheKey, root: Path | None = None) -> Path | None:
    """The folder of ``key`` when it is complete and intact; a damaged one is removed."""
    folder = (root or cache_root()) / key.folder_name()
    if not folder.exists():
        return None
    problem = _check(folder, key)
    if problem is None:
        return folder
    log.warning("converted model %s is %s: converting again", folder, problem)
    remove(folder)
    return None


def _check(folder: Path, key: CacheKey) -> str | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "incomplete (no readable manifest)"
    if not isinstance(manifest, dict) or manifest.get("key") != key.to_json():
        return "stale (made for another key)"
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return "incomplete (no files listed)"
    for name, entry in files.items():
        path = folder / name
        try:
            if path.stat().st_size != entry["size"] or file_sha256(path) != entry["sha256"]:
                return f"damaged ({name} differs from its manifest)"
        except (OSError, KeyError, TypeError):
            return f"incomplete ({name} missing)"
    return None


def store(key: CacheKey, write: Callable[[Path], None], root: Path | None = None) -> Path:
    """Run ``write(folder)`` into a fresh folder, then move it into place whole.

    The manifest is written last and the folder renamed in one step, so a crash leaves either
    nothing or a ``.partial`` folder that is never looked up. If another process finished the
    same key first, its entry is kept.
    """
    root = root or cache_root()
    root.mkdir(parents=True, exist_ok=True)
    final = root / key.folder_name()
    partial = Path(tempfile.mkdtemp(dir=root, prefix=f".partial-{key.folder_name()}-"))
    try:
        write(partial)
        files = {
            path.name: {"size": path.stat().st_size, "sha256": file_sha256(path)}
            for path in sorted(partial.iterdir())
            if path.is_file()
        }
        manifest = {"key": key.to_json(), "files": files}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if final.exists():
            remove(final)  # damaged or stale (lookup refused it): replaced, never mixed with
        try:
            partial.rename(final)
        except OSError:
            if lookup(key, root) is None:  # not another process's finished copy: a real failure
                raise
            remove(partial)
    except BaseException:
        remove(partial)
        raise
    for older in root.glob(f"{key.family}-*"):  # made by an older backend or recipe
        if older != final:
            remove(older)
    return final


def remove(folder: Path) -> None:
    """Delete a cache folder, first renaming it aside so nobody reads a half-deleted one."""
    aside = folder.with_name(f".removing-{folder.name}-{os.getpid()}")
    try:
        folder.rename(aside)
    except OSError:
        aside = folder
    shutil.rmtree(aside, ignore_errors=True)
