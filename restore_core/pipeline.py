"""One job, start to end: decode -> faces -> restore -> compose -> encode.

``Pipeline.run`` is a generator of ``ProgressEvent``s that returns a ``Result``; the CLI
drives it with a progress bar, the GUI's batch queue with signals. It is a thin layer over
the ``RenderEngine``, so a batch and the live preview produce the same pixels.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .compose import ComparisonMode, comparison_image
from .engine import ProgressEvent, RenderEngine, Steps, drive
from .errors import ModelError, SettingsError
from .faces import DetectedFace
from .io import LoadedImage, WriteSet, check_output_path, default_output_suffix, save_image
from .params import Settings
from .reference import DEFAULT_PAIRING_THRESHOLD, IdentityReport

__all__ = ["Comparison", "Exports", "FaceReport", "Pipeline", "ProgressEvent", "Result", "comparison_name", "drive"]


@dataclass(frozen=True)
class FaceReport:
    index: int
    face: DetectedFace
    selected: bool
    model: str | None
    strength: float
    creativity: float
    identity: IdentityReport | None = None  # reference and similarities
    mask: str | None = None  # the blend mask used ("parsing" or "box"); None when not restored
    tone: str | None = None  # what the face was restored as: "colour", "grey" or "toned"
    backend: str | None = None  # what ran its model ("torch", "openvino", "onnxruntime"; "none")
    precision: str | None = None  # how: "fp32", "bf16", "fp32 encoder + bf16 decoder"...

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            **self.face.to_json(),
            "selected": self.selected,
            "model": self.model,
            "strength": self.strength,
            "creativity": self.creativity,
            "mask": self.mask,
            "tone": self.tone,
            "backend": self.backend,
            "precision": self.precision,
            **(self.identity.to_json() if self.identity else {"reference": None}),
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
    face_files: tuple[Path, ...] = ()  # --save-faces: each restored face's images

    def to_json(self) -> dict[str, Any]:
        return {
            "input": str(self.input),
            "output": str(self.output) if self.output else None,
            "face_files": [str(p) for p in self.face_files],
            "size": [self.image.width, self.image.height] if self.image is not None else None,
            "faces": [f.to_json() for f in self.faces],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "device": self.device,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Comparison:
    """How a before/after comparison image looks."""

    mode: ComparisonMode = "side_by_side"
    split: float = 0.5  # split mode: the fraction of the width shown from before
    labels: bool = True


def comparison_name(source: Path) -> str:
    """The file name of ``source``'s before/after image in a folder of comparisons."""
    return f"{source.stem}_comparison.jpg"


@dataclass(frozen=True)
class Exports:
    """Files to write from the photo an engine holds; None skips one."""

    image: Path | None = None  # the restored photo at output size
    comparison: Path | None = None  # before | after
    report: Path | None = None  # faces and settings, JSON
    comparison_style: Comparison = Comparison()
    faces: Path | None = None  # a folder for each restored face's images (saved_faces)

    @property
    def paths(self) -> list[Path]:
        """The single files (``faces`` names a folder: its files depend on the faces)."""
        return [p for p in (self.image, self.comparison, self.report) if p is not None]


def save_comparison(
    before_rgb8: np.ndarray, restored: LoadedImage, path: Path, style: Comparison, *, quality: int, writes: WriteSet
) -> Path:
    """The comparison of the original (8-bit sRGB working copy) with ``restored``, staged in ``writes``."""
    pixels = comparison_image(
        before_rgb8, restored.working_rgb8(), mode=style.mode, labels=style.labels, split=style.split
    )
    # both halves are 8-bit sRGB working copies: no profile needed
    return save_image(LoadedImage(pixels), path, quality=quality, writes=writes)


def write_json(path: Path, data: Any, *, overwrite: bool = False, writes: WriteSet | None = None) -> Path:
    """``data`` as a JSON file (a report, saved settings), staged in ``writes`` when given."""
    text = json.dumps(data, indent=2).encode("utf-8")
    if writes is not None:
        return writes.add(path, lambda f: f.write(text))
    with WriteSet(overwrite=overwrite) as single:
        single.add(path, lambda f: f.write(text))
    return path


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        *,
        allow_download: bool = True,
        engine: RenderEngine | None = None,
        report_identity: bool = False,
        references_folder: Path | None = None,
        pair_threshold: float = DEFAULT_PAIRING_THRESHOLD,
    ) -> None:
        self.settings = settings
        #: add identity similarities for every face (needs ArcFace), not only for paired ones
        self.report_identity = report_identity
        #: pair faces automatically with the photos in this folder (identity model needed)
        self.references_folder = references_folder
        self.pair_threshold = pair_threshold
        # One engine for a whole batch: models and the detector load once.
        self.engine = engine or RenderEngine(device=settings.device, allow_download=allow_download)

    def faces_steps(
        self, source: Path, external_faces: Sequence[DetectedFace] | None = None
    ) -> Steps[list[DetectedFace]]:
        yield ProgressEvent("decode", 0, 1, f"reading {source.name}")
        self.engine.open(source, self.settings.limits)
        yield ProgressEvent("decode", 1, 1, f"{self.engine.image.width} x {self.engine.image.height}")
        if external_faces is not None:
            from .detect import select_faces

            image = self.engine.image
            self.engine.use_faces(
                select_faces(list(external_faces), self.settings.detection, (image.width, image.height))
            )
            return self.engine.faces
        return (yield from self.engine.detect_steps(self.settings.detection))

    def run(
        self,
        source: str | Path,
        output: str | Path | None = None,
        *,
        overwrite: bool = False,
        external_faces: Sequence[DetectedFace] | None = None,
        comparison: Path | None = None,
        comparison_style: Comparison = Comparison(),
        report: Path | None = None,
        name_ending: str = "",
        save_faces: Path | None = None,
        writes: WriteSet | None = None,
    ) -> Steps[Result]:
        """Restore ``source`` into ``output`` (not written when None). Nothing is written on error.

        ``output`` may be a folder: the file then takes the input's name plus ``name_ending``,
        with the extension ``io.default_output_suffix`` chooses for the decoded image (the
        one rule for every front end).
        ``comparison``: also write a before/after image there; ``report``: the JSON report;
        ``save_faces``: an existing folder for each restored face's images (``saved_faces``).
        The files land together or not at all: a report that cannot be written leaves no image.
        ``writes``: stage the files in this set (its rules say what may be replaced; ``overwrite``
        is then unused) and leave moving them into place to the caller, as a batch does once
        it has recorded them.
        """
        source = Path(source)
        own_writes = writes is None
        writes = WriteSet(overwrite=overwrite) if writes is None else writes
        folder = Path(output) if output is not None and Path(output).is_dir() else None
        target = Path(output) if output is not None and folder is None else None
        for path in (target, comparison, report):
            if path is not None:
                check_output_path(source, path, overwrite=writes.may_replace(path))
        self.engine.timings.clear()
        started = time.perf_counter()
        faces = yield from self.faces_steps(source, external_faces)
        check_face_indices(self.settings, len(faces), source)
        if folder is not None:
            target = folder / f"{source.stem}{name_ending}{default_output_suffix(self.engine.image)}"
            check_output_path(source, target, overwrite=writes.may_replace(target))
        self._check_face_files(source, save_faces, writes)
        settings = self.settings
        skipped: tuple[Exception, ...] = ()
        if self.references_folder is not None:
            settings, skipped = self.paired_settings(settings, self.references_folder)
        restored = yield from self.engine.output_steps(settings)
        start = time.perf_counter()
        exports = Exports(image=target, comparison=comparison, comparison_style=comparison_style, faces=save_faces)
        with writes if own_writes else contextlib.nullcontext():
            written = yield from self._write_images(restored, exports, writes)
            face_files = yield from self._write_faces(source, exports, settings, writes)
            if written or face_files:
                self.engine.timings["encode"] = time.perf_counter() - start
            timings = dict(self.engine.timings)
            timings["total"] = time.perf_counter() - started
            result = Result(
                input=source,
                output=target,
                image=restored,
                faces=tuple(self.face_reports(faces, settings)),
                timings=timings,
                notes=(*self.engine.notes, *(f"reference skipped: {error}" for error in skipped)),
                device=str(self.engine.device),
                face_files=tuple(face_files),
            )
            if report is not None:
                write_json(report, {**result.to_json(), "settings": settings.to_json()}, writes=writes)
        return result

    def paired_settings(self, settings: Settings, folder: Path) -> tuple[Settings, tuple[Exception, ...]]:
        """``settings`` with each selected face paired to its best reference photo in ``folder``.

        Faces that already carry a reference keep it; needs the ArcFace identity model.
        """
        from .reference import pair_folder

        identity = self.engine.identity()
        if identity is None:
            from .reference import identity_unavailable_message

            raise ModelError(identity_unavailable_message())
        indices = [
            i for i in range(len(self.engine.faces)) if settings.is_selected(i) and not settings.for_face(i).reference
        ]
        if not indices:
            return settings, ()
        embeddings = identity.embed(np.stack([self.engine.aligned(i).rgb8 for i in indices]))
        pairing = pair_folder(
            folder,
            embeddings,
            detector=self.engine.detector(),
            identity=identity,
            cache=self.engine.reference_cache,
            threshold=self.pair_threshold,
        )
        for row, reference in pairing.references.items():
            settings = settings.with_override(indices[row], reference=str(reference.path))
        return settings, pairing.skipped

    def export_steps(self, source: Path, exports: Exports, *, overwrite: bool = False) -> Steps[list[Path]]:
        """Write ``exports`` of the photo and faces the engine holds now (opened from ``source``).

        Every target is checked before any work, so a refused name costs nothing and leaves
        nothing half written. Returns the files written.
        """
        for target in exports.paths:
            check_output_path(source, target, overwrite=overwrite)
        self._check_face_files(source, exports.faces, WriteSet(overwrite=overwrite))
        engine = self.engine
        restored = None
        if exports.image is not None or exports.comparison is not None or exports.faces is not None:
            restored = yield from engine.output_steps(self.settings)
        with WriteSet(overwrite=overwrite) as writes:
            face_files: list[Path] = []
            if restored is not None:
                yield from self._write_images(restored, exports, writes)
                face_files = yield from self._write_faces(source, exports, self.settings, writes)
            if exports.report is not None:
                result = Result(
                    input=source,
                    output=exports.image,
                    image=restored or engine.image,
                    faces=tuple(self.face_reports(engine.faces)),
                    notes=engine.notes,
                    device=str(engine.device),
                )
                write_json(exports.report, {**result.to_json(), "settings": self.settings.to_json()}, writes=writes)
        return [*exports.paths, *face_files]

    def _check_face_files(self, source: Path, folder: Path | None, writes: WriteSet) -> None:
        """Refuse, before the models run, face files that would overwrite anything unasked."""
        if folder is None:
            return
        from .saved_faces import face_paths

        for index in range(len(self.engine.faces)):
            if self.settings.is_selected(index):
                for path in face_paths(folder, source.stem, index).values():
                    check_output_path(source, path, overwrite=writes.may_replace(path))

    def _write_faces(self, source: Path, exports: Exports, settings: Settings, writes: WriteSet) -> Steps[list[Path]]:
        """Stage each restored face's images in ``exports.faces`` (``saved_faces``)."""
        if exports.faces is None:
            return []
        from .saved_faces import stage_faces

        indices = sorted(self.engine.last_outputs)
        yield ProgressEvent("encode", 0, 1, f"writing {len(indices)} faces' images to {exports.faces}")
        faces = [self.engine.face_images(index, settings) for index in indices]
        return stage_faces(faces, exports.faces, source.stem, writes)

    def _write_images(self, restored: LoadedImage, exports: Exports, writes: WriteSet) -> Steps[list[Path]]:
        """Stage the restored photo and the before/after comparison that ``exports`` asks for."""
        output = self.settings.output
        written: list[Path] = []
        if exports.image is not None:
            yield ProgressEvent("encode", 0, 1, f"writing {exports.image.name}")
            written.append(
                save_image(
                    restored,
                    exports.image,
                    quality=output.jpeg_quality,
                    lossless=output.webp_lossless,
                    writes=writes,
                )
            )
            yield ProgressEvent("encode", 1, 1, f"wrote {exports.image}")
        if exports.comparison is not None:
            yield ProgressEvent("encode", 0, 1, f"writing {exports.comparison.name}")
            written.append(
                save_comparison(
                    self.engine.original_rgb8(),
                    restored,
                    exports.comparison,
                    exports.comparison_style,
                    quality=output.jpeg_quality,
                    writes=writes,
                )
            )
        return written

    def face_reports(self, faces: Sequence[DetectedFace], run_settings: Settings | None = None) -> list[FaceReport]:
        run_settings = run_settings or self.settings
        reports = []
        for index, face in enumerate(faces):
            settings = run_settings.for_face(index)
            rendered = self.engine.last_outputs.get(index)
            reports.append(
                FaceReport(
                    index=index,
                    face=face,
                    selected=rendered is not None,
                    model=rendered.model if rendered else None,
                    strength=settings.strength,
                    creativity=rendered.creativity if rendered else settings.creativity,
                    identity=self.engine.identity_report(index) if settings.reference or self.report_identity else None,
                    mask=rendered.mask if rendered else None,
                    tone=rendered.tone if rendered else None,
                    backend=rendered.backend if rendered else None,
                    precision=rendered.precision if rendered else None,
                )
            )
        return reports


def check_face_indices(settings: Settings, count: int, source: Path) -> None:
    """Refuse face indices (``--faces``, per-face settings) that name no face of the photo."""
    named = {*(settings.faces or ()), *(i for i, _ in settings.overrides)}
    missing = sorted(i for i in named if i >= count)
    if missing:
        found = "no faces" if count == 0 else f"{count} face{'s' * (count != 1)} (0 to {count - 1})"
        which = ", ".join(map(str, missing))
        raise SettingsError(f"{source}: face {which} does not exist; {found} found (see facemend-cli detect)")
