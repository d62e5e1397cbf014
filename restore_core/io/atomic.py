"""Writes that are all or nothing: a temp file in the target folder, flushed, synced, renamed.

A crash, a full disk or an exception in the writer leaves the target as it was (absent, or
the previous file when overwriting) and no temp file behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import OutputError

TEMP_SUFFIX = ".facemend-tmp"


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None], *, overwrite: bool = False) -> Path:
    """Run ``write`` on a fresh temp file beside ``path``, then move it into place.

    ``write`` gets a binary file open for reading and writing (it may seek back). Raises
    ``OutputError`` when the target exists and ``overwrite`` is false, when the folder is
    missing, and for operating-system errors (permissions, disk full). Any other exception
    from ``write`` propagates unchanged, after the temp file is removed.
    """
    target = Path(path)
    check_target(target, overwrite=overwrite)
    folder = target.parent
    # Hidden, and with a suffix no image reader accepts, so folder batches never pick it up.
    temp = folder / f".{target.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
    try:
        # "x": created here, never an existing file; the OS applies the user's umask as for any new file.
        with open(temp, "xb+") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)
    except OSError as exc:
        _remove(temp)
        raise OutputError(target, f"cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        _remove(temp)
        raise
    _sync_folder(folder)
    return target


def check_target(path: Path, *, overwrite: bool) -> None:
    """Raise ``OutputError`` unless ``path`` can be written: a file name in an existing folder,
    not taken unless ``overwrite``."""
    if path.is_dir():
        raise OutputError(path, "is a folder")
    if not path.parent.is_dir():
        raise OutputError(path, f"the folder {path.parent} does not exist")
    if path.exists() and not overwrite:
        raise OutputError(path, "already exists; choose another name or allow overwriting (--overwrite)")


def _remove(temp: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); folders cannot be opened this way on Windows."""
    if os.name != "posix":
        return
    # Some file systems (network mounts) refuse to sync a folder; the file's data is synced already.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
