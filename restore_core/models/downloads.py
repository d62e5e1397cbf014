"""Fetching model weights: resumable, with progress and cancellation, verified before use.

Bytes stream into ``<file>.part`` in the models folder. An interrupted or cancelled download
keeps the ``.part`` and the next call resumes it with an HTTP Range request (or starts over
cleanly when the server ignores Range). The file is hashed as it arrives and moved into place
with ``os.replace`` only when its SHA-256 matches the registry; a mismatch discards the
``.part`` and leaves any existing file untouched.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import CancelledError, ModelError
from .registry import ModelSpec, spec
from .store import find, model_path, models_dir, remember_hash

#: ``progress(bytes_done, bytes_total)``; ``bytes_total`` is 0 while the size is unknown.
Progress = Callable[[int, int], None]

MIRROR_ENV = "FACEMEND_DOWNLOAD_MIRROR"
GITHUB = "https://github.com"
CHUNK = 256 * 1024  # small enough that cancellation and progress stay responsive
#: bytes beyond the registry size a download may reach before it is stopped (a mirror cannot fill the disk)
SIZE_MARGIN = 1 << 20
TIMEOUT_S = 30.0

_locks_guard = threading.Lock()
_file_locks: dict[str, threading.Lock] = {}


def download_url(model: ModelSpec) -> str:
    """The spec's URL, with ``https://github.com`` replaced by ``FACEMEND_DOWNLOAD_MIRROR`` if set."""
    mirror = os.environ.get(MIRROR_ENV)
    if mirror and model.url.startswith(GITHUB):
        return mirror.rstrip("/") + model.url[len(GITHUB) :]
    return model.url


def download(
    name_or_spec: str | ModelSpec,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    accept_licence: bool = False,
) -> Path:
    """Download (or resume) a registry entry into the models folder and return its path.

    Entries with a ``licence_notice`` need their licence accepted: already (``licences``), or
    now with ``accept_licence=True`` (the caller has shown the notice and the user agreed; the
    answer is then recorded).
    """
    from .licences import accept_licence as record_acceptance
    from .licences import licence_accepted

    model = name_or_spec if isinstance(name_or_spec, ModelSpec) else spec(name_or_spec)
    if model.licence_notice and not accept_licence and not licence_accepted(model.name):
        raise ModelError(
            f"{model.filename}: {model.licence_notice} Accept the licence to download it: "
            f"facemend-cli models download {model.name} --accept-licence"
        )
    if model.licence_notice and accept_licence:
        record_acceptance(model.name)
    url = download_url(model)
    target = model_path(model)
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _lock_for(model.filename):
        digest = _fetch(model, url, part, progress, cancel)
        if digest != model.sha256:
            part.unlink(missing_ok=True)
            kept = f"; the existing {target.name} was kept" if target.exists() else ""
            raise ModelError(
                f"{model.filename} downloaded from {url} did not match its published checksum: "
                f"expected sha256 {model.sha256}, got {digest}. The download was discarded{kept}"
            )
        os.replace(part, target)
        remember_hash(target, digest)
    return target


def require(
    name: str,
    *,
    allow_download: bool = True,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    accept_licence: bool = False,
) -> Path:
    """The path of model ``name``, downloading it when missing and allowed.

    When it cannot be had, one ``ModelError`` says what is missing, where it was looked for,
    where to get it, its hash, and how to put it in place by hand.
    """
    model = spec(name)
    path = find(name)
    if path is not None:
        return path
    if not allow_download:
        raise ModelError(missing_message(model, "downloads are turned off"))
    try:
        return download(model, progress=progress, cancel=cancel, accept_licence=accept_licence)
    except ModelError as exc:
        raise ModelError(missing_message(model, f"the download failed: {exc}")) from exc


def missing_message(model: ModelSpec, reason: str) -> str:
    folder = models_dir()
    return (
        f"model file {model.filename} ({model.title}) is not in {folder} and {reason}. "
        f"Get it from {download_url(model)} (sha256 {model.sha256}), then run "
        f"`facemend-cli models import FILE` or copy it into {folder}"
    )


def _fetch(model: ModelSpec, url: str, part: Path, progress: Progress | None, cancel: threading.Event | None) -> str:
    """Complete ``part`` from ``url`` and return the SHA-256 of the whole file."""
    offset = part.stat().st_size if part.is_file() else 0
    if model.size is not None and offset > model.size:
        offset = 0  # longer than the real file: not a prefix of it
    digest = hashlib.sha256()
    if model.size is not None and offset == model.size:
        with part.open("rb") as finished:  # finished earlier, stopped before the check
            _hash_prefix(finished, offset, digest)
        if progress is not None:
            progress(offset, offset)
        return digest.hexdigest()

    response, offset, total = _open(model, url, offset)
    most = size_cap(model)
    if most is not None and total > most:
        response.close()
        raise ModelError(
            f"{url} offers {total} bytes for {model.filename}, which is {model.display_size} bytes; not downloaded"
        )
    with response, part.open("r+b" if offset else "wb") as out:
        _hash_prefix(out, offset, digest)
        done = offset
        if progress is not None:
            progress(done, total)
        while True:
            if cancel is not None and cancel.is_set():
                raise CancelledError()
            try:
                chunk = response.read(CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                raise _stopped(model, url, done, total, str(exc) or type(exc).__name__) from exc
            if not chunk:
                break
            if most is not None and done + len(chunk) > most:
                out.close()
                part.unlink(missing_ok=True)
                raise ModelError(
                    f"the download of {model.filename} from {url} went past its published size of "
                    f"{model.display_size} bytes; stopped and discarded"
                )
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        os.fsync(out.fileno())  # on disk before it can be renamed into place
    # http.client returns b"" instead of raising when a connection closes before Content-Length.
    if total and done != total:
        raise _stopped(model, url, done, total, "the connection closed early")
    return digest.hexdigest()


def size_cap(model: ModelSpec) -> int | None:
    """The most bytes a download of ``model`` may bring: its size plus a small margin
    (twice the approximate size where only that is published)."""
    if model.size is not None:
        return model.size + SIZE_MARGIN
    if model.approx_size is not None:
        return 2 * model.approx_size + SIZE_MARGIN
    return None


def _open(model: ModelSpec, url: str, offset: int) -> tuple[http.client.HTTPResponse, int, int]:
    """Open ``url`` from ``offset`` if the server allows it; returns (response, offset, total)."""
    headers = {"User-Agent": "Facemend"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S
        )
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            return _open(model, url, 0)  # the partial file is of no use to this server: start over
        raise ModelError(f"could not download {model.filename} from {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ModelError(f"could not download {model.filename} from {url}: {reason}") from exc

    if offset and response.status == 206:
        start, total = _content_range(response.headers.get("Content-Range", ""))
        if start == offset:
            return response, offset, total
        response.close()
        return _open(model, url, 0)
    # 200: the whole file from its first byte (a server that ignores Range lands here too).
    length = response.headers.get("Content-Length")
    return response, 0, int(length) if length and length.isdigit() else 0


def _content_range(value: str) -> tuple[int | None, int]:
    """(first byte, total size or 0) of a ``Content-Range: bytes a-b/total`` header."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*", value)
    if match is None:
        return None, 0
    return int(match.group(1)), int(match.group(2)) if match.group(2) != "*" else 0


def _hash_prefix(f: BinaryIO, length: int, digest: hashlib._Hash) -> None:
    """Hash the first ``length`` bytes of an open file, leaving it positioned after them."""
    remaining = length
    while remaining:
        chunk = f.read(min(CHUNK, remaining))
        if not chunk:
            break
        digest.update(chunk)
        remaining -= len(chunk)


def _stopped(model: ModelSpec, url: str, done: int, total: int, reason: str) -> ModelError:
    of_total = f" of {total}" if total else ""
    return ModelError(
        f"the download of {model.filename} from {url} stopped after {done}{of_total} bytes ({reason}); "
        "run it again to resume"
    )


def _lock_for(filename: str) -> threading.Lock:
    with _locks_guard:
        return _file_locks.setdefault(filename, threading.Lock())
