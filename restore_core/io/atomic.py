"""Writes that are all or nothing: a temp file in the target folder, flushed, synced, renamed.

A crash, a full disk or an exception in the writer leaves the target as it was (absent, or
the previous file when overwriting) and no temp file behind. ``WriteSet`` extends this to
several files (a photo, its comparison, its report): every file is written to its temp first
and only then are all renamed, so a job whose report cannot be written leaves no photo either.

Temp files carry the writing host and process in their name. A run killed before it could
clean up leaves its temps; the next write into that folder removes those whose process is
gone (same host) or that are older than ``STALE_AFTER_S`` (any host: a shared folder).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from ..errors import OutputError, OutputExistsError

TEMP_SUFFIX = ".facemend-tmp"
#: a temp file this old belongs to no running write (writes take seconds)
STALE_AFTER_S = 3600.0
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"
_TEMP_NAME = re.compile(rf"^\..+\.(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)-[0-9a-f]{{12}}{re.escape(TEMP_SUFFIX)}$")


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object], *, overwrite: bool = False) -> Path:
    """Run ``write`` on a fresh temp file beside ``path``, then move it into place.

    ``write`` gets a binary file open for reading and writing (it may seek back). Raises
    ``OutputError`` when the target exists and ``overwrite`` is false, when the folder is
    missing, and for operating-system errors (permissions, disk full). Any other exception
    from ``write`` propagates unchanged, after the temp file is removed.
    """
    with WriteSet(overwrite=overwrite) as writes:
        writes.add(path, write)
    return Path(path)


class WriteSet:
    """Files written together or not at all.

    ``add`` writes each file to its temp at once (so errors surface there); leaving the
    ``with`` block without an exception renames them all into place, with one removes every
    temp. ``commit`` may be called early; it returns the files written.

    ``replaceable`` names files that may be replaced although ``overwrite`` is off (a resumed
    batch redoing its own earlier output). The temps may also be written by one process and
    renamed by another: ``staged`` lists them, ``WriteSet.adopt`` takes them over.
    """

    def __init__(self, *, overwrite: bool = False, replaceable: Collection[Path] = ()) -> None:
        self.overwrite = overwrite
        self.replaceable = frozenset(Path(p) for p in replaceable)
        self._staged: list[tuple[Path, Path]] = []  # (temp, target)
        self._done = False

    @classmethod
    def adopt(
        cls, staged: Iterable[tuple[Path, Path]], *, overwrite: bool = False, replaceable: Collection[Path] = ()
    ) -> WriteSet:
        """A set holding temps another ``WriteSet`` wrote (``staged`` pairs), to commit or discard here."""
        writes = cls(overwrite=overwrite, replaceable=replaceable)
        writes._staged = [(Path(temp), Path(target)) for temp, target in staged]
        return writes

    @property
    def staged(self) -> tuple[tuple[Path, Path], ...]:
        """(temp, target) of every file written and not yet moved into place."""
        return tuple(self._staged)

    def may_replace(self, target: Path) -> bool:
        return self.overwrite or target in self.replaceable

    def add(self, path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
        target = Path(path)
        if any(target == staged for _, staged in self._staged):
            raise OutputError(target, "is named twice in one job")
        check_target(target, overwrite=self.may_replace(target))
        remove_stale_temps(target.parent)
        temp = target.parent / f".{target.name}.{_HOST}-{os.getpid()}-{secrets.token_hex(6)}{TEMP_SUFFIX}"
        try:
            # "x": created here, never an existing file; the OS applies the user's umask as for any new file.
            with open(temp, "xb+") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            _remove(temp)
            raise write_error(target, exc) from exc
        except BaseException:
            _remove(temp)
            raise
        self._staged.append((temp, target))
        return target

    def commit(self) -> list[Path]:
        """Move every staged file into place; on a failure the ones already moved are taken back
        when they were new (a replaced file cannot be brought back), the rest discarded."""
        moved: list[tuple[Path, bool]] = []
        try:
            for temp, target in self._staged:
                if not self.may_replace(target) and target.exists():  # appeared since it was checked
                    raise OutputExistsError(target)
                existed = target.exists()
                try:
                    os.replace(temp, target)
                except OSError as exc:
                    raise write_error(target, exc) from exc
                moved.append((target, existed))
        except BaseException:
            for target, existed in moved:
                if not existed:
                    _remove(target)
            self.discard()
            raise
        for folder in {target.parent for _, target in self._staged}:
            _sync_folder(folder)
        self._done = True
        return [target for _, target in self._staged]

    def discard(self) -> None:
        for temp, _ in self._staged:
            _remove(temp)
        self._staged.clear()
        self._done = True

    def __enter__(self) -> WriteSet:  # noqa: PYI034 - final class in practice
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._done:
            return
        if kind is None:
            self.commit()
        else:
            self.discard()


def check_target(path: Path, *, overwrite: bool) -> None:
    """Raise ``OutputError`` unless ``path`` can be written: a file name in an existing folder,
    not taken unless ``overwrite``."""
    if path.is_dir():
        raise OutputError(path, "is a folder")
    parent = path.parent
    if not parent.is_dir():
        blocker = next((p for p in (parent, *parent.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise OutputError(path, f"cannot be written: {blocker} is a file, not a folder")
        raise OutputError(path, f"the folder {parent} does not exist")
    if path.exists() and not overwrite:
        raise OutputExistsError(path)


def make_folder(path: Path) -> Path:
    """Create an output folder (and its parents); an ``OutputError`` names it when that fails."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(path, "is a file, not a folder") from None
    except OSError as exc:
        raise write_error(path, exc, verb="cannot create the folder") from exc
    return path


def write_error(target: Path, exc: OSError, *, verb: str = "cannot write") -> OutputError:
    """One message for a failed write, with a next step for the usual causes."""
    reasons = {
        errno.ENOSPC: "the disk is full; free some space or write elsewhere",
        errno.EROFS: "the drive is read-only; write to another folder",
        errno.EACCES: "permission denied; write to a folder you own",
        errno.EPERM: "permission denied; write to a folder you own",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
    }
    if hasattr(errno, "EDQUOT"):  # not on Windows
        reasons[errno.EDQUOT] = "the disk quota is used up; free some space or write elsewhere"
    reason = reasons.get(exc.errno or 0, exc.strerror or str(exc))
    return OutputError(target, f"{verb}: {reason}")


def remove_stale_temps(folder: Path) -> int:
    """Delete the temps left in ``folder`` by killed writes; returns how many went."""
    removed = 0
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None:
            continue
        with contextlib.suppress(OSError):
            dead = match["host"] == _HOST and not _alive(int(match["pid"]))
            if dead or now - entry.stat().st_mtime > STALE_AFTER_S:
                os.unlink(entry.path)
                removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid() or os.name != "posix":
        return True  # on Windows os.kill(pid, 0) would terminate the process: age alone decides there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or a platform that cannot tell: assume it runs
    return True


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
