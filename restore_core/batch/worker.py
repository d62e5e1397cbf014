"""Restoring one file of a batch: the part that runs where the models are.

A ``Worker`` holds one ``Pipeline`` (so models load once) and turns a ``FileJob`` into a
``FileOutcome``. It writes the file's outputs to temps beside their final names and stops
there: the driver records them in the manifest and only then moves them into place, so a
killed run never leaves a photo under its final name that the manifest does not know.
Jobs and outcomes are plain frozen data, so they cross to a Ray actor and back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import RenderEngine, Steps, drive
from ..errors import CancelledError, FacemendError
from ..faces import DetectedFace
from ..io import WriteSet
from ..params import Settings
from ..pipeline import Comparison, Pipeline, Result
from ..reference import DEFAULT_PAIRING_THRESHOLD
from .manifest import OutputFile, Status

log = logging.getLogger(__name__)

DriveSteps = Callable[[Steps[Result]], Result]


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to build its pipeline; the same for every file of a batch."""

    settings: Settings
    allow_download: bool = True
    report_identity: bool = False
    references_folder: Path | None = None
    pair_threshold: float = DEFAULT_PAIRING_THRESHOLD
    external_faces: tuple[DetectedFace, ...] | None = None
    comparison_style: Comparison = field(default_factory=Comparison)
    threads: int | None = None  # torch threads of this worker (None: torch's default)
    #: each output's name: the photo's name, this ending, then ``output_suffix`` (a format's
    #: extension) or, when "", the extension the core's rule gives the decoded photo
    name_ending: str = ""
    output_suffix: str = ""

    def pipeline(self, engine: RenderEngine | None = None) -> Pipeline:
        return Pipeline(
            self.settings,
            engine=engine,
            allow_download=self.allow_download,
            report_identity=self.report_identity,
            references_folder=self.references_folder,
            pair_threshold=self.pair_threshold,
        )

    def fingerprint(self, *, comparisons: bool) -> str:
        """What the outputs depend on, hashed: a finished file whose record carries another
        fingerprint is done again. Every setting but the device (the same photo is asked for
        on any device), the boxes given, the reference folder and what is written. Not the
        name ending: a record says where its output went, so a rename keeps it done, and the
        app (``_restored``) and the command line (no ending) know each other's work."""
        settings = self.settings.to_json()
        settings.pop("device", None)
        what = {
            "settings": settings,
            "faces": [f.to_json() for f in self.external_faces] if self.external_faces is not None else None,
            "references": str(self.references_folder) if self.references_folder else None,
            "pair_threshold": self.pair_threshold if self.references_folder else None,
            "comparison": vars(self.comparison_style) if comparisons else None,
        }
        if self.output_suffix:  # another encoding; absent otherwise, so earlier manifests still match
            what["format"] = self.output_suffix
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class FileJob:
    """One file to restore, with where its outputs go and what they may replace."""

    key: str
    source: Path
    output_folder: Path
    comparison: Path | None = None
    overwrite: bool = False
    #: outputs the manifest proves this batch wrote for this file: redoing it may replace them
    replaceable: frozenset[Path] = frozenset()


@dataclass(frozen=True)
class FileOutcome:
    """What a worker made of a job: staged outputs (absolute paths) or an error."""

    key: str
    status: Status
    staged: tuple[tuple[Path, Path], ...] = ()  # (temp, final name), for the driver to move into place
    output: OutputFile | None = None
    comparison: OutputFile | None = None
    faces: int = 0
    restored: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    error: str | None = None
    worker: str = ""

    @classmethod
    def failed(cls, job: FileJob, error: str, worker: str = "") -> FileOutcome:
        return cls(job.key, "failed", error=error, worker=worker)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """Restores batch files one at a time with one pipeline (one process or one Ray actor)."""

    def __init__(self, spec: WorkerSpec, engine: RenderEngine | None = None) -> None:
        """``engine``: restore with this one (the app's worker thread owns its engine and
        models) rather than building a pipeline of its own."""
        if spec.threads:
            import torch

            torch.set_num_threads(spec.threads)
        self.spec = spec
        self.pipeline = spec.pipeline(engine)
        self.name = worker_name()

    def pid(self) -> int:
        return os.getpid()

    def run(self, job: FileJob, drive_steps: DriveSteps = drive) -> FileOutcome:
        """Restore ``job`` into temps; any failure is an outcome (the batch goes on), never raised."""
        writes = WriteSet(overwrite=job.overwrite, replaceable=job.replaceable)
        spec = self.spec
        output = job.output_folder
        if spec.output_suffix:
            output = output / f"{job.source.stem}{spec.name_ending}{spec.output_suffix}"
        try:
            result = drive_steps(
                self.pipeline.run(
                    job.source,
                    output,
                    name_ending=spec.name_ending,
                    external_faces=self.spec.external_faces,
                    comparison=job.comparison,
                    comparison_style=self.spec.comparison_style,
                    writes=writes,
                )
            )
            return self._outcome(job, result, writes)
        except CancelledError:  # the user stopped the batch (not a failure of this file): nothing is kept
            writes.discard()
            raise
        except FacemendError as exc:
            writes.discard()
            return FileOutcome.failed(job, str(exc), self.name)
        except Exception as exc:  # one bad file must not stop a batch; logged with --verbose
            writes.discard()
            log.info("unexpected failure on %s", job.source, exc_info=True)
            return FileOutcome.failed(job, f"{job.source}: unexpected {type(exc).__name__}: {exc}", self.name)
        except BaseException:
            writes.discard()
            raise

    def _outcome(self, job: FileJob, result: Result, writes: WriteSet) -> FileOutcome:
        temps = {target: temp for temp, target in writes.staged}

        def recorded(target: Path | None) -> OutputFile | None:
            return OutputFile.of(temps[target], str(target)) if target is not None else None

        return FileOutcome(
            key=job.key,
            status="done",
            staged=writes.staged,
            output=recorded(result.output),
            comparison=recorded(job.comparison),
            faces=len(result.faces),
            restored=sum(f.selected for f in result.faces),
            timings=dict(result.timings),
            notes=tuple(result.notes),
            worker=self.name,
        )
