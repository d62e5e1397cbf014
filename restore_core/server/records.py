"""What the server knows about a job, as it survives a restart: ``JobRecord`` and its statuses.

A record is plain data (JSON-able); the API modules turn it into each API's own view. The
status moves pending -> processing -> completed | failed | cancelled, and never back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class JobStatus(str, Enum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class ImageFacts:
    """One image of a job: format (``LoadedImage.format`` or an output extension), size, bytes."""

    format: str
    width: int
    height: int
    bytes: int = 0


@dataclass(frozen=True)
class FaceFacts:
    """One face of a finished job, in input pixels."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    score: float
    restored: bool
    model: str | None
    mask: str | None = None  # the blend mask used ("parsing" or "box"); None when not restored


@dataclass(frozen=True)
class JobRecord:
    id: str
    api: str  # which API made it: "enhance-faces" or "restore-gen"
    filename: str  # the uploaded file's name, made safe: messages and output names use it
    created: float  # Unix time
    status: JobStatus = JobStatus.PENDING
    updated: float = 0.0
    finished: float | None = None
    eta: float = 0.0  # Unix time the job is expected to finish
    percent: int = 0
    stage: str = ""
    input: ImageFacts | None = None
    #: the planned output (format and size) from submission on; its bytes once written
    output: ImageFacts | None = None
    #: download name -> file name in the job's folder; only these can be downloaded
    files: dict[str, str] = field(default_factory=dict)
    faces: tuple[FaceFacts, ...] = ()
    #: the face model the request asked for, and once finished the one(s) the faces used
    model: str = ""
    notes: tuple[str, ...] = ()
    error: str | None = None
    #: the files are gone (kept for ``keep_results_s`` after finishing)
    expired: bool = False

    def replace(self, **changes: Any) -> JobRecord:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        values = dict(data)
        values["status"] = JobStatus(values["status"])
        for key in ("input", "output"):
            if values.get(key) is not None:
                values[key] = ImageFacts(**values[key])
        values["faces"] = tuple(FaceFacts(**{**face, "box": tuple(face["box"])}) for face in values.get("faces", ()))
        values["notes"] = tuple(values.get("notes", ()))
        return cls(**values)

    @property
    def restored_model(self) -> str | None:
        """The model most restored faces used; None when no face was restored."""
        used = [face.model for face in self.faces if face.restored and face.model]
        return max(sorted(set(used)), key=used.count) if used else None
