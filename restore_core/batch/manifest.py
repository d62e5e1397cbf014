"""The batch manifest: what each file became, one JSON line per finished or failed file.

``OUT/facemend-manifest.jsonl`` is appended to, never rewritten: each record is one ``write``
of one whole line on a file opened for appending, flushed and synced before the photo it
describes is moved into place. A run killed at any point leaves whole lines (a torn last line
from a power cut is ignored on reading), and the latest record of a file is what counts. One
batch at a time writes into a folder: a second one is refused while the first holds the lock.

A "done" record is written before its output is renamed into place, so a record may name an
output a killed run never moved: the next run sees the output is missing and redoes the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Literal

from ..errors import OutputError
from ..io.atomic import write_error

log = logging.getLogger(__name__)

MANIFEST_NAME = "facemend-manifest.jsonl"
_HASH_CHUNK = 1 << 20

Status = Literal["done", "failed"]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class OutputFile:
    """A file a batch wrote: where (relative to the output folder when inside it) and its content."""

    path: str
    sha256: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, file: Path, name: str) -> OutputFile:
        """The record of ``file`` (a staged temp: renaming keeps its size and date) under ``name``."""
        stat = file.stat()
        return cls(name, sha256_of(file), stat.st_size, stat.st_mtime_ns)

    def matches(self, root: Path) -> bool:
        """Whether the file is there with this content. Its hash is read again only when its
        size or date changed (as model files are checked), so resuming a large batch is quick."""
        path = root / self.path
        try:
            stat = path.stat()
        except OSError:
            return False
        if stat.st_size != self.size:
            return False
        if stat.st_mtime_ns == self.mtime_ns:
            return True
        try:
            return sha256_of(path) == self.sha256
        except OSError:
            return False

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size, "mtime_ns": self.mtime_ns}

    @classmethod
    def from_json(cls, data: Any) -> OutputFile | None:
        if not isinstance(data, dict):
            return None
        return cls(str(data["path"]), str(data["sha256"]), int(data["size"]), int(data["mtime_ns"]))


@dataclass(frozen=True)
class FileRecord:
    """One line of the manifest: one attempt at one file, and what came of it."""

    input: str  # the batch item's key
    size: int  # the input's size and date when it was done
    mtime_ns: int
    settings: str  # the settings fingerprint of the batch
    status: Status
    output: OutputFile | None = None
    comparison: OutputFile | None = None
    faces: int = 0  # found
    restored: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    error: str | None = None
    worker: str = ""  # host:pid
    finished: float = field(default_factory=time.time)  # Unix time the record was made

    def current(self, size: int, mtime_ns: int, settings: str, root: Path, comparison: str | None) -> bool:
        """Whether this record still stands for the input as it is now: same input, same
        settings, outputs present with their recorded content."""
        if self.status != "done" or self.output is None:
            return False
        if (self.size, self.mtime_ns, self.settings) != (size, mtime_ns, settings):
            return False
        if comparison is not None and (self.comparison is None or self.comparison.path != comparison):
            return False
        return all(f.matches(root) for f in (self.output, self.comparison) if f is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "file",
            "input": self.input,
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "settings": self.settings,
            "status": self.status,
            "output": self.output.to_json() if self.output else None,
            "comparison": self.comparison.to_json() if self.comparison else None,
            "faces": self.faces,
            "restored": self.restored,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "notes": list(self.notes),
            "error": self.error,
            "worker": self.worker,
            "finished": round(self.finished, 3),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileRecord:
        return cls(
            input=str(data["input"]),
            size=int(data["size"]),
            mtime_ns=int(data["mtime_ns"]),
            settings=str(data["settings"]),
            status="done" if data["status"] == "done" else "failed",
            output=OutputFile.from_json(data.get("output")),
            comparison=OutputFile.from_json(data.get("comparison")),
            faces=int(data.get("faces", 0)),
            restored=int(data.get("restored", 0)),
            timings={str(k): float(v) for k, v in (data.get("timings") or {}).items()},
            notes=tuple(str(n) for n in data.get("notes") or ()),
            error=data.get("error"),
            worker=str(data.get("worker", "")),
            finished=float(data.get("finished", 0.0)),
        )


class Manifest:
    """The manifest of the batch writing into ``folder``, open for appending (a context manager).

    ``records`` holds the latest line of each file (kept as text: a million-photo archive's
    manifest is read in one pass and parsed per file on demand); ``reports`` the batch reports
    written, by path, so the next run may replace its own report.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / MANIFEST_NAME
        self._lines: dict[str, str] = {}
        self._done: dict[str, str] = {}  # the latest "done" line, when a failed one came after it
        self.reports: dict[str, OutputFile] = {}
        self.torn = 0  # lines that could not be read (a power cut mid-write)
        self._fh: BinaryIO | None = None

    def __enter__(self) -> Manifest:  # noqa: PYI034 - final class in practice
        try:
            self._fh = open(self.path, "a+b")  # held until __exit__
        except OSError as exc:
            raise write_error(self.path, exc) from exc
        try:
            _lock(self._fh, self.path)
            self._read()
        except BaseException:
            self._fh.close()
            self._fh = None
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._fh is not None:
            self._fh.close()  # closing releases the lock
            self._fh = None

    def _read(self) -> None:
        assert self._fh is not None
        self._fh.seek(0)
        line = b""
        for line in self._fh:
            if line.strip():
                self._take(line)
        if self.torn:
            log.warning("%s: %d unreadable line(s) ignored", self.path, self.torn)
        if line and not line.endswith(b"\n"):  # a torn last line: the next record starts a line of its own
            self._write(b"\n")

    def _take(self, line: bytes) -> None:
        try:
            record = json.loads(line)
            kind = record.get("kind")
            if kind == "file":
                self._keep(str(record["input"]), record["status"], line.decode("utf-8").rstrip("\n"))
            elif kind == "report":
                report = OutputFile.from_json(record)
                if report is not None:
                    self.reports[report.path] = report
        except (ValueError, KeyError, TypeError, AttributeError):
            self.torn += 1

    def _keep(self, key: str, status: str, line: str) -> None:
        self._lines[key] = line
        if status == "done":
            self._done[key] = line

    def get(self, key: str) -> FileRecord | None:
        """The latest record of ``key``."""
        return _parse(self._lines.get(key))

    def last_done(self, key: str) -> FileRecord | None:
        """The latest "done" record of ``key``: its outputs are this batch's, even after a failed retry."""
        return _parse(self._done.get(key))

    def keys(self) -> Iterator[str]:
        return iter(self._lines)

    def append(self, record: FileRecord) -> None:
        line = json.dumps(record.to_json(), separators=(",", ":"))
        self._write(line.encode("utf-8") + b"\n")
        self._keep(record.input, record.status, line)

    def append_report(self, report: OutputFile) -> None:
        self._write(json.dumps({"kind": "report", **report.to_json()}, separators=(",", ":")).encode() + b"\n")
        self.reports[report.path] = report

    def _write(self, data: bytes) -> None:
        if self._fh is None:
            raise RuntimeError("the manifest is not open")
        try:
            # one write call of one whole line: appends never interleave or tear on a local disk
            os.write(self._fh.fileno(), data)
            os.fsync(self._fh.fileno())
        except OSError as exc:
            raise write_error(self.path, exc) from exc


def _parse(line: str | None) -> FileRecord | None:
    return FileRecord.from_json(json.loads(line)) if line is not None else None


def _lock(fh: BinaryIO, path: Path) -> None:
    """Refuse a second batch into the same folder (POSIX advisory lock; not on Windows)."""
    try:
        import fcntl
    except ImportError:
        return
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise OutputError(path, "another batch is writing into this folder; wait for it to finish") from None
    except OSError:  # a file system without locks (some network mounts): go on unguarded
        log.info("%s: cannot be locked; make sure one batch at a time writes here", path)
