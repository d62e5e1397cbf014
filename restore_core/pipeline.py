"""One job, start to end: decode -> faces -> restore -> compose -> encode.

``Pipeline.run`` is a generator of ``ProgressEvent``s that returns a ``Result``; the CLI
drives it with a progress bar, the GUI's batch queue with signals. It is a thin layer over
the ``RenderEngine``, so a batch and the live preview produce the same pixels.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event
from typing import Any

from .engine import ProgressEvent, RenderEngine, Steps, drive
from .errors import OutputError
from .faces import DetectedFace
from .io import LoadedImage, atomic_write, default_output_suffix, save_image
from .params import Settings

__all__ = ["FaceReport", "Pipeline", "ProgressEvent", "Result", "drive"]


@dataclass(frozen=True)
class FaceReport:
    index: int
    face: DetectedFace
    selected: bool
    model: str | None
    strength: float
    creativity: float
    reference: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            **self.face.to_json(),
            "selected": self.selected,
            "model": self.model,
            "strength": self.strength,
            "creativity": self.creativity,
            "reference": self.reference,
        }


@dataclass(frozen=True, eq=False)
class Result:
    input: Path
    output: Path | None
    image: LoadedImage | None  # the restored image (None for detection-only jobs)
    faces: tuple[FaceReport, ...]
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    device: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "input": str(self.input),
            "output": str(self.output) if self.output else None,
            "size": [self.image.width, self.image.height] if self.image is not None else None,
            "faces": [f.to_json() for f in self.faces],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "device": self.device,
            "notes": list(self.notes),
        }


def write_json(path: Path, data: Any, *, overwrite: bool = True) -> Path:
    text = json.dumps(data, indent=2).encode("utf-8")
    return atomic_write(path, lambda f: f.write(text), overwrite=overwrite)


class Pipeline:
    def __init__(self, settings: Settings, *, allow_download: bool = True, engine: RenderEngine | None = None) -> None:
        self.settings = settings
        # One engine for a whole batch: models and the detector load once.
        self.engine = engine or RenderEngine(device=settings.device, allow_download=allow_download)

    def faces_steps(self, source: Path, external_faces: Sequence[DetectedFace] | None = None) -> Steps[list[DetectedFace]]:
        yield ProgressEvent("decode", 0, 1, f"reading {source.name}")
        self.engine.open(source)
        yield ProgressEvent("decode", 1, 1, f"{self.engine.image.width} x {self.engine.image.height}")
        if external_faces is not None:
            from .detect import select_faces

            image = self.engine.image
            self.engine.use_faces(select_faces(list(external_faces), self.settings.detection, (image.width, image.height)))
            return self.engine.faces
        return (yield from self.engine.detect_steps(self.settings.detection))

    def run(
        self,
        source: str | Path,
        output: str | Path | None = None,
        *,
        overwrite: bool = False,
        external_faces: Sequence[DetectedFace] | None = None,
        cancel: Event | None = None,
    ) -> Steps[Result]:
        """Restore ``source`` into ``output`` (not written when None). Nothing is written on error.

        ``output`` may be a folder: the file then takes the input's name, with the input's
        extension when Facemend can write it and it holds the image (else TIFF/PNG/EXR).
        """
        source = Path(source)
        folder = Path(output) if output is not None and Path(output).is_dir() else None
        target = Path(output) if output is not None and folder is None else None
        if target is not None:
            check_output_path(source, target, overwrite=overwrite)
        self.engine.timings.clear()
        started = time.perf_counter()
        faces = yield from self.faces_steps(source, external_faces)
        if folder is not None:
            target = folder / f"{source.stem}{default_output_suffix(self.engine.image)}"
            check_output_path(source, target, overwrite=overwrite)
        restored = yield from self.engine.output_steps(self.settings, cancel=cancel)
        if target is not None:
            yield ProgressEvent("encode", 0, 1, f"writing {target.name}")
            start = time.perf_counter()
            save_image(
                restored,
                target,
                overwrite=overwrite,
                quality=self.settings.output.jpeg_quality,
                lossless=self.settings.output.webp_lossless,
            )
            self.engine.timings["encode"] = time.perf_counter() - start
            yield ProgressEvent("encode", 1, 1, f"wrote {target}")
        timings = dict(self.engine.timings)
        timings["total"] = time.perf_counter() - started
        return Result(
            input=source,
            output=target,
            image=restored,
            faces=tuple(self.face_reports(faces)),
            timings=timings,
            notes=self.engine.image.notes,
            device=str(self.engine.device),
        )

    def face_reports(self, faces: Sequence[DetectedFace]) -> list[FaceReport]:
        reports = []
        for index, face in enumerate(faces):
            selected = self.settings.is_selected(index)
            settings = self.settings.for_face(index)
            reports.append(
                FaceReport(
                    index=index,
                    face=face,
                    selected=selected,
                    model=self.engine.resolve_model(index, settings) if selected else None,
                    strength=settings.strength,
                    creativity=settings.creativity,
                    reference=settings.reference,
                )
            )
        return reports


def check_output_path(source: Path, target: Path, *, overwrite: bool) -> None:
    """Refuse, before any work, to write over the original or over an existing file."""
    if target.exists() and source.exists() and target.resolve() == source.resolve():
        raise OutputError(target, "is the input file; the original is never overwritten")
    if target.exists() and not overwrite:
        raise OutputError(target, "already exists (use --overwrite to replace it)")
    if not target.parent.is_dir():
        raise OutputError(target, f"folder {target.parent} does not exist")
