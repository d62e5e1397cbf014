"""The render engine: one image, its faces, and caches keyed by what each result depends on.

decode -> detection (per detection settings) -> alignment and face parse (per face) -> model
output (per face, model, creativity, pre-conditioning) -> colour match -> composition through
each face's blend mask (its parsed face classes, or the box). A slider only
redoes what it changes: strength and grain recompose; creativity on CodeFormer re-runs the
decoder only (encoder features are cached per face). Faces are cached by identity (their
landmarks, which alone decide the aligned crop), not by list position: a detection with another
sensitivity aligns, parses and restores only the faces it adds.

A job reports each face as it finishes (``FaceDone`` on a "restore" event: its index, how
many are done of how many, the time left, its thumbnails and, in a preview render, the view's
pixels with it pasted), and caches its output at once, so a job cancelled half way, or
restarted by a slider move, keeps the faces it finished.

Every long step is a generator of ``ProgressEvent`` so the CLI, the GUI worker and the
pipeline report progress the same way; ``drive`` runs one with a callback and stops it at a
yield when asked to (so no step takes a cancel flag). Not thread-safe: one worker thread owns
an engine.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event
from typing import Any, NamedTuple, TypeVar

import cv2
import numpy as np

from . import compose
from .align import ALIGNED_SIZE, FaceWarp, Region, estimate_warp
from .errors import CancelledError, SettingsError
from .faces import Box, DetectedFace
from .io import LoadedImage, load_image
from .limits import available_memory, output_memory_estimate
from .lru import LRUCache
from .params import DetectionSettings, FaceSettings, LimitSettings, Settings
from .reference import (
    IDENTITY_MODEL,
    ReferenceCache,
    ReferenceFace,
    identity_available,
    match_face_color,
    pick_closest,
)
from .restore.precondition import preconditioning_for

THUMB_SIZE = 96
#: Creativity levels pre-rendered per face so a slider move can be answered at once.
PREFETCH_LEVELS = (0.0, 0.5, 1.0)

_R = TypeVar("_R")


@dataclass(frozen=True)
class ProgressEvent:
    stage: str  # decode, detect, align, parse, load-model, restore, compose, upscale, encode
    done: int
    total: int
    message: str = ""
    #: on the "restore" event sent as a face finishes (``done`` of ``total`` faces): that face
    face: FaceDone | None = None


Steps = Generator[ProgressEvent, None, _R]


def drive(steps: Steps[_R], progress: Callable[[ProgressEvent], None] | None = None, cancel: Event | None = None) -> _R:
    """Run a generator of progress events to its end, reporting each; returns its result.

    ``cancel`` is looked at before every step: once set, the generator is closed (its
    ``finally`` blocks run) and ``CancelledError`` raised, so long work stops at its next yield.
    """
    while True:
        if cancel is not None and cancel.is_set():
            steps.close()
            raise CancelledError()
        try:
            event = next(steps)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(event)


@dataclass(frozen=True, eq=False)
class AlignedFace:
    warp: FaceWarp
    rgb8: np.ndarray  # 512 x 512 x 3 uint8, sRGB

    @property
    def rgb(self) -> np.ndarray:
        return np.divide(self.rgb8, np.float32(255.0), dtype=np.float32)


@dataclass(frozen=True, eq=False)
class FaceRender:
    index: int
    face: DetectedFace
    selected: bool
    model: str | None  # resolved model (auto -> gfpgan/codeformer); None when not restored
    preview: bool  # shown at a nearby creativity while the exact face renders
    original_thumb: np.ndarray
    restored_thumb: np.ndarray | None
    reference: str | None = None  # path of the paired reference photo
    reference_face: int | None = None  # which of its faces guides this one
    reference_faces: int = 0  # how many faces the reference photo has
    #: identity similarity restored vs reference (or vs original without one); None without ArcFace
    similarity: float | None = None
    creativity: float | None = None  # the creativity rendered (the identity lock may choose it)
    mask: str | None = None  # the blend mask used: "parsing" or "box" (None when not restored)
    tone: str | None = None  # restored as "colour", "grey" or "toned" (None when not restored)
    backend: str | None = None  # what ran its model: "torch", "openvino"... ("none": passthrough)


@dataclass(frozen=True, eq=False)
class FaceDone:
    """One face of a job, restored: sent on a "restore" event (``ProgressEvent.face``) the moment
    it finishes, before the faces after it run. Its output is cached by then, so it survives a
    cancel. Arrays are the receiver's own (copies, read-only)."""

    render: FaceRender  # index, model, thumbnails (similarity is left for the final result)
    #: the job's model seconds per face so far times the faces left (0 for its last face)
    seconds_left: float
    #: preview renders (``render_steps``): where ``patch`` goes in the result's pixels
    #: (x0, y0, x1, y1 of ``RenderResult.rgb8``), and the view there with every face done so far
    #: pasted; None in full-size output jobs
    region: Region | None = None
    patch: np.ndarray | None = None

    @property
    def index(self) -> int:
        return self.render.index


@dataclass(frozen=True, eq=False)
class RenderResult:
    rgb8: np.ndarray  # the rendered region, 8-bit sRGB
    region: Region  # in input-image pixels
    scale: float
    faces: tuple[FaceRender, ...]
    preview: bool
    timings: dict[str, float] = field(default_factory=dict)
    #: the unrestored region at the same scale, resampled exactly as ``rgb8`` (read-only)
    original_rgb8: np.ndarray | None = None
    #: for the user: conversions made on opening the photo, model files that are not the published ones
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class _FaceOutput:
    rgb: np.ndarray  # 512 x 512 x 3 float32 0..1, colour matched, ready to paste
    model_rgb8: np.ndarray  # the model's own output, before colour match and tone
    model: str
    preview: bool
    creativity: float
    reference: ReferenceFace | None = None
    mask: str = "box"  # the blend mask it is pasted through (params.MASKS)
    tone: str = "colour"  # the tone it was put in (compose.ToneKind)
    backend: str = "none"  # what ran the model ("torch", "openvino"...; "none": no network)
    precision: str = ""  # how: "fp32", "bf16", "fp32 encoder + bf16 decoder"...


@dataclass(frozen=True, eq=False)
class FaceImages:
    """What happened to one face in the latest render, in aligned (512 x 512) space."""

    index: int
    model: str
    mask_kind: str  # "parsing" or "box"
    tone: str  # "colour", "grey" or "toned"
    aligned_rgb8: np.ndarray  # the photo's face as the model was given it (before pre-conditioning)
    model_rgb8: np.ndarray  # the model's output
    final_rgb8: np.ndarray  # colour matched and toned: what is pasted
    mask: np.ndarray  # float32 0..1, the paste-back weight: the blend mask times the strength

    @property
    def blended_rgb8(self) -> np.ndarray:
        """The face as the result shows it: ``final`` over the aligned input through ``mask``."""
        weight = self.mask[..., None]
        blended = self.aligned_rgb8 * (1 - weight) + self.final_rgb8 * weight
        return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _creativity_key(value: float) -> float:
    return round(value, 3)


#: A face's identity in the open photo: its landmarks, which alone decide its aligned crop (and so
#: its parse, tone and outputs). The same face found again by another detection has the same one.
FaceKey = tuple[tuple[float, float], ...]


class _OutputKey(NamedTuple):
    face: FaceKey
    model: str
    backend: str
    precondition: tuple[Any, ...]  # the user's own pre-conditioning, () when off
    creativity: float

    def same_but_creativity(self, other: _OutputKey) -> bool:
        return self[:4] == other[:4]


class RenderEngine:
    def __init__(
        self,
        *,
        device: str = "auto",
        allow_download: bool = False,
        max_cached_faces: int = 256,
        precision: str | None = None,
    ) -> None:
        self.device_preference = device
        #: the face models' precision: None is the fastest each backend computes (the benchmark forces one)
        self.precision = precision
        self.allow_download = allow_download
        self.model_calls = 0  # network passes run, for tests and diagnostics
        self.timings: dict[str, float] = {}
        self._image: LoadedImage | None = None
        self._faces: list[DetectedFace] = []
        #: the detector's faces by what it was asked (``DetectionSettings.for_detector``)
        self._detections: dict[DetectionSettings, list[DetectedFace]] = {}
        self._drawn: dict[Box, DetectedFace] = {}  # faces drawn by hand, by their box
        # Per face, by identity: kept for the faces a new detection finds again.
        self._aligned: dict[FaceKey, AlignedFace] = {}
        self._detector: Any = None
        self._detector_name: str | None = None
        self._restorers: dict[tuple[str, str], Any] = {}  # (model, backend) -> restorer
        self._backends: dict[str, Any] = {}  # backend setting -> the backend it resolves to here
        self._runs_on = "torch"  # the backend of the settings being rendered (part of the output keys)
        self._parser: Any = None
        self._parses: dict[FaceKey, np.ndarray] = {}  # ParseNet class map of the aligned face
        # (face, mask kind) -> aligned-space blend weight (1 MB each)
        self._blend_masks: LRUCache[tuple[FaceKey, str], np.ndarray] = LRUCache(64)
        self._reference_parses: LRUCache[ReferenceFace, np.ndarray] = LRUCache(16)  # reference face -> class map
        self._photo_tone: compose.Tone | None = None
        self._face_tones: dict[FaceKey, compose.Tone] = {}
        self._device: Any = None
        # model outputs: (face, model, backend, user pre-conditioning, creativity) -> uint8 face
        self._outputs: LRUCache[_OutputKey, np.ndarray] = LRUCache(max_cached_faces * 4)
        # CodeFormer encoder features: (face, model, backend, pre-conditioning) -> features (~48 MB each)
        self._features: LRUCache[tuple[Any, ...], Any] = LRUCache(24)
        self._matched: LRUCache[tuple[Any, ...], np.ndarray] = LRUCache(max_cached_faces)
        self._last_view: tuple[tuple[Any, ...], np.ndarray] | None = None
        self._references = ReferenceCache()
        self._identity: Any = None
        self._locked: dict[tuple[Any, ...], float] = {}  # identity lock: chosen creativity per face
        #: the faces of the latest render, by face index (reports read model, creativity, reference)
        self.last_outputs: dict[int, _FaceOutput] = {}
        #: model name -> why its file is not the published one (models stay loaded, so notes stay)
        self.model_notes: dict[str, str] = {}
        #: set by a render in which a face asked for the parsing mask and ParseNet is not installed
        self.mask_note: str | None = None

    # ----- image and faces -------------------------------------------------------------
    @property
    def image(self) -> LoadedImage:
        if self._image is None:
            raise RuntimeError("no image loaded")
        return self._image

    @property
    def faces(self) -> list[DetectedFace]:
        return list(self._faces)

    def open(self, path: str | Path, limits: LimitSettings | None = None) -> LoadedImage:
        limits = limits or LimitSettings()
        start = time.perf_counter()
        image = load_image(path, max_pixels=limits.max_pixels, max_pixels_per_byte=limits.max_pixels_per_byte)
        self._timed("decode", start)
        self.set_image(image)
        return image

    def set_image(self, image: LoadedImage) -> None:
        """Work on ``image`` from now on. Everything cached for the previous photo goes, so a
        batch holds one photo's faces at a time; models and reference photos stay loaded."""
        self._image = image
        self._last_view = None
        self._photo_tone = None
        self._detections.clear()
        self._drawn.clear()
        for cache in (self._outputs, self._features, self._matched, self._locked, self._blend_masks):
            cache.clear()
        self.last_outputs = {}
        self._set_faces([])

    @property
    def notes(self) -> tuple[str, ...]:
        """What the user should know about the photo and the models behind the latest result."""
        mask_note = (self.mask_note,) if self.mask_note else ()
        return (*self.image.notes, *self.model_notes.values(), *mask_note)

    def _note_model(self, name: str) -> None:
        """Record once if the file of registry model ``name`` is not the published one."""
        from .models import unverified_note

        if name not in self.model_notes:
            note = unverified_note(name)
            if note is not None:
                self.model_notes[name] = note

    def _set_faces(self, faces: list[DetectedFace]) -> None:
        self._faces = list(faces)
        # Faces found again keep their crops, parses and tones; the others' go (outputs stay in
        # their bounded caches, keyed by identity too).
        current = {face.landmarks for face in self._faces}
        for cache in (self._aligned, self._parses, self._face_tones):
            for key in [k for k in cache if k not in current]:
                del cache[key]

    def face_key(self, index: int) -> FaceKey:
        """The identity face ``index`` is cached under."""
        return self._faces[index].landmarks

    def use_faces(self, faces: Iterable[DetectedFace]) -> None:
        """External boxes: skip detection."""
        self._set_faces(list(faces))

    def original_rgb8(self) -> np.ndarray:
        return self.image.working_rgb8()

    def detect_steps(self, detection: DetectionSettings) -> Steps[list[DetectedFace]]:
        """The faces ``detection`` asks for: the detector's (run once per photo and detector
        settings) with the user's corrections, faces drawn by hand and faces removed."""
        asked = detection.for_detector
        if asked not in self._detections:
            yield ProgressEvent("detect", 0, 1, "finding faces")
            detector = self._load_detector(asked.detector)
            start = time.perf_counter()
            rgb8 = self.image.working_rgb8()
            self._detections[asked] = detector.detect(rgb8, asked)  # filtered and ordered
            self._timed("detect", start)
            yield ProgressEvent("detect", 1, 1, f"{len(self._detections[asked])} faces")
        faces = self._detections[asked]
        if detection is not asked:
            from .detect.drawn import corrected_faces

            faces = corrected_faces(faces, detection, functools.partial(self._drawn_face, asked.detector))
        self._set_faces(faces)
        return self.faces

    def _drawn_face(self, detector: str, box: Box) -> DetectedFace:
        if box not in self._drawn:
            from .detect.drawn import drawn_face

            self._drawn[box] = drawn_face(box, self.image.working_rgb8(), self._load_detector(detector))
        return self._drawn[box]

    def detect(
        self, detection: DetectionSettings, progress: Callable[[ProgressEvent], None] | None = None
    ) -> list[DetectedFace]:
        return drive(self.detect_steps(detection), progress)

    # ----- devices and models ----------------------------------------------------------
    @property
    def device(self) -> Any:
        if self._device is None:
            from .models import select_device

            self._device = select_device(self.device_preference)
        return self._device

    def _load_detector(self, name: str) -> Any:
        from .detect import load_detector

        if self._detector is None or self._detector_name != name:
            self._detector = load_detector(name, self.device, allow_download=self.allow_download)
            self._detector_name = name
            self._note_model(self._detector.name)
        return self._detector

    @property
    def detector_name(self) -> str | None:
        """The detector actually used (``auto`` resolved), once detection has run."""
        return getattr(self._detector, "name", self._detector_name)

    def backend(self, setting: str = "auto") -> Any:
        """The backend (``restore.backends.Backend``) the ``backend`` setting picks on this device."""
        if setting not in self._backends:
            from .restore.backends import resolve_backend

            self._backends[setting] = resolve_backend(setting, self.device_preference, self.device)
        return self._backends[setting]

    def restorer(self, name: str, backend: str = "auto") -> Any:
        """Face model ``name`` on the backend the ``backend`` setting picks (loaded once)."""
        from .restore import load_restorer

        resolved = self.backend(backend)
        key = (name, resolved.name)
        if key not in self._restorers:
            self._restorers[key] = load_restorer(
                name,
                self.device,
                allow_download=self.allow_download,
                backend=resolved,
                precision=self.precision,
                cpu_only=self.device_preference == "cpu",
            )
            self._note_model(name)
        return self._restorers[key]

    def _use_backend(self, settings: Settings) -> None:
        """Render ``settings`` on their backend: outputs are cached per backend, as they differ."""
        self._runs_on = self.backend(settings.backend).name

    def face_parser(self) -> Any:
        """ParseNet (loaded once), or None when it is not installed."""
        from .restore import PARSING_MODEL, load_face_parser, parser_available

        if self._parser is None and parser_available():
            self._parser = load_face_parser(self.device)
            self._note_model(PARSING_MODEL)
        return self._parser

    def installed_face_models(self) -> set[str]:
        """The registry's face models ``auto`` may choose: installed (verified or not), and
        their licence accepted where they have one to accept."""
        from .models import installed, licence_accepted

        return {name for name in installed("face") if licence_accepted(name)}

    # ----- per-face work ---------------------------------------------------------------
    def aligned(self, index: int) -> AlignedFace:
        key = self.face_key(index)
        if key not in self._aligned:
            warp = estimate_warp(self._faces[index].landmarks_array())
            self._aligned[key] = AlignedFace(warp, warp.crop(self.image.working_rgb8()))
        return self._aligned[key]

    def mask_kind(self, face: FaceSettings) -> str:
        """The mask a face with these settings is blended through: ``parsing`` needs ParseNet."""
        from .restore import parser_available

        if face.mask == "parsing" and (self._parser is not None or parser_available()):
            return "parsing"
        return "box"

    def _parse_steps(self, indices: Iterable[int]) -> Steps[None]:
        """Parse the aligned faces of ``indices`` not parsed yet (ParseNet must be installed)."""
        todo = [i for i in dict.fromkeys(indices) if self.face_key(i) not in self._parses]
        if not todo:
            return
        parser = self.face_parser()
        for start in range(0, len(todo), parser.batch_size):
            chunk = todo[start : start + parser.batch_size]
            yield ProgressEvent("parse", start, len(todo), f"parsing face {start + 1} of {len(todo)}")
            t0 = time.perf_counter()
            for index, parse in zip(chunk, parser.parse(np.stack([self.aligned(i).rgb8 for i in chunk])), strict=True):
                parse.setflags(write=False)
                self._parses[self.face_key(index)] = parse
            self._timed("parse", t0)
        yield ProgressEvent("parse", len(todo), len(todo), "faces parsed")

    def face_parse(self, index: int) -> np.ndarray:
        """The ParseNet class map of face ``index``'s aligned crop (parsed on first use)."""
        drive(self._parse_steps([index]))
        return self._parses[self.face_key(index)]

    def blend_mask(self, index: int, kind: str) -> np.ndarray:
        """Face ``index``'s aligned-space paste-back weight (512 x 512 float32, read-only) for a
        mask ``kind`` that ``mask_kind`` resolved: its parsed face classes, or the box."""
        if kind == "box":
            return compose.face_blend_mask(ALIGNED_SIZE)
        key = (self.face_key(index), kind)
        mask = self._blend_masks.get(key)
        if mask is None:
            mask = compose.parsed_blend_mask(self.face_parse(index))
            self._blend_masks.put(key, mask)
        return mask

    def photo_tone(self) -> compose.Tone:
        """Whether the photo is grey, toned (sepia, cyanotype...) or colour (measured once)."""
        if self._photo_tone is None:
            self._photo_tone = compose.measure_tone(self.image.working_rgb8())
        return self._photo_tone

    def face_tone(self, index: int) -> compose.Tone:
        """The tone face ``index`` is restored in: the photo's, or its own region's (a B&W print
        in a colour collage)."""
        key = self.face_key(index)
        if key not in self._face_tones:
            self._face_tones[key] = compose.measure_face_tone(self.aligned(index).rgb8, self.photo_tone())
        return self._face_tones[key]

    def resolve_model(self, index: int, face: FaceSettings) -> str:
        if face.model != "auto":
            return face.model
        from .restore import choose_model

        return choose_model(self._faces[index].size, self.aligned(index).rgb8, self.installed_face_models())

    def _output_key(self, index: int, model: str, face: FaceSettings) -> _OutputKey:
        precondition = (face.blur_sigma, face.noise_sigma, face.noise_seed) if face.precondition else ()
        return _OutputKey(self.face_key(index), model, self._runs_on, precondition, _creativity_key(face.creativity))

    def _nearest_output(self, key: _OutputKey) -> _OutputKey | None:
        """The cached output of the same face and model at the creativity closest to ``key``'s."""
        candidates = [
            (abs(k.creativity - key.creativity), k)
            for k in self._outputs.keys_oldest_first()
            if key.same_but_creativity(k)
        ]
        return min(candidates)[1] if candidates else None

    def _restore_steps(
        self,
        jobs: list[tuple[int, str, FaceSettings]],
        finished: Callable[[int, float], FaceDone] | None = None,
    ) -> Steps[None]:
        """Run the models for the (face, model, settings) jobs not yet cached, model by model, one
        batch at a time (one face on a CPU). Each face's output is cached as its batch ends, and
        a "restore" event says so, carrying ``finished(index, seconds_left)`` when given."""
        by_model: dict[str, list[tuple[int, FaceSettings]]] = {}
        for index, model, face in jobs:
            if self._output_key(index, model, face) not in self._outputs:
                by_model.setdefault(model, []).append((index, face))
        total = sum(len(v) for v in by_model.values())
        done = 0
        model_seconds = 0.0
        for model, items in by_model.items():
            yield ProgressEvent("load-model", 0, 1, f"loading {model}")
            restorer = self.restorer(model, self._runs_on)
            preparation = restorer.preparation()
            if preparation is not None:  # a first-use conversion: seconds, so it is shown
                yield ProgressEvent("prepare-model", 0, 1, preparation)
                t0 = time.perf_counter()
                restorer.prepare()
                self._timed("prepare-model", t0)
                yield ProgressEvent("prepare-model", 1, 1, f"{model} ready on {restorer.device_name}")
            # Faces sharing pre-conditioning and creativity go through the model together.
            groups: dict[tuple[Any, ...], list[tuple[int, FaceSettings]]] = {}
            for index, face in items:
                pre = preconditioning_for(face, restorer.creativity_by_preconditioning)
                group_key = (pre.key(), _creativity_key(face.creativity) if restorer.has_fidelity_input else None)
                groups.setdefault(group_key, []).append((index, face))
            for group in groups.values():
                for start in range(0, len(group), restorer.batch_size):
                    chunk = group[start : start + restorer.batch_size]
                    yield ProgressEvent("restore", done, total, f"restoring face {done + 1} of {total} ({model})")
                    t0 = time.perf_counter()
                    restored = self._run_model(restorer, model, chunk)
                    model_seconds += time.perf_counter() - t0
                    self._timed("restore", t0)
                    for (index, face), out in zip(chunk, restored, strict=True):
                        # 8-bit: the models' own precision, and the cheapest to cache and convert.
                        self._outputs.put(self._output_key(index, model, face), _to_rgb8(out))
                    for index, _ in chunk:
                        done += 1
                        seconds_left = model_seconds / done * (total - done)
                        yield ProgressEvent(
                            "restore",
                            done,
                            total,
                            f"face {done} of {total} restored ({model})",
                            face=finished(index, seconds_left) if finished is not None else None,
                        )

    def _run_model(self, restorer: Any, model: str, chunk: list[tuple[int, FaceSettings]]) -> np.ndarray:
        face = chunk[0][1]
        pre = preconditioning_for(face, restorer.creativity_by_preconditioning)
        inputs = pre.apply(np.stack([self.aligned(i).rgb for i, _ in chunk]))
        if not restorer.runs_network:
            return restorer.restore(inputs, face.creativity)
        if not restorer.caches_encoder:
            self.model_calls += 1
            return restorer.restore(inputs, face.creativity)
        # CodeFormer: encoder features cached per face; a creativity change runs the decoder only.
        feature_keys = [(*self._output_key(i, model, f)[:3], pre.key()) for i, f in chunk]
        missing = [n for n, k in enumerate(feature_keys) if self._features.get(k) is None]
        if missing:
            self.model_calls += 1
            for n, features in zip(missing, restorer.encode(inputs[missing]), strict=True):
                self._features.put(feature_keys[n], features)
        self.model_calls += 1
        return restorer.decode([self._features[k] for k in feature_keys], face.creativity)

    def prefetch_steps(self, settings: Settings, levels: Iterable[float] = PREFETCH_LEVELS) -> Steps[None]:
        """Pre-render a few creativity levels of every selected face (idle-time work for the GUI)."""
        self._use_backend(settings)
        for level in levels:
            jobs = []
            for index in self._selected(settings):
                face = settings.for_face(index)
                jobs.append((index, self.resolve_model(index, face), _replace_creativity(face, level)))
            yield from self._restore_steps(jobs)

    def _selected(self, settings: Settings) -> list[int]:
        return [i for i in range(len(self._faces)) if settings.is_selected(i)]

    @property
    def reference_cache(self) -> ReferenceCache:
        return self._references

    def detector(self) -> Any:
        """The detector in use (``auto`` until detection has chosen one)."""
        return self._load_detector(self._detector_name or "auto")

    def reference(self, face: FaceSettings) -> ReferenceFace | None:
        """The reference photo's aligned face for ``face`` (cached), or None without one."""
        if not face.reference:
            return None
        return self._references.get(face.reference, self.detector(), face_index=face.reference_face)

    def identity(self) -> Any:
        """The ArcFace identity model, or None when its weights are not installed."""
        if self._identity is None and (self.allow_download or identity_available()):
            from .reference import load_identity_model

            self._identity = load_identity_model(self.device, allow_download=self.allow_download)
            self._note_model(IDENTITY_MODEL)
        return self._identity

    def _plan(self, settings: Settings, index: int) -> tuple[str, FaceSettings]:
        face = settings.for_face(index)
        return self.resolve_model(index, face), face

    def _face_outputs(
        self,
        settings: Settings,
        indices: list[int],
        *,
        allow_preview: bool,
        paste: Callable[[int, _FaceOutput], tuple[Region, np.ndarray] | None] | None = None,
    ) -> Steps[dict[int, _FaceOutput]]:
        """The finished outputs of faces ``indices``, running the models for those not cached.

        Each face restored is announced as it finishes (``FaceDone``); ``paste(index, output)``
        (a preview render's) puts it into the view and gives the region and pixels to show.
        """
        self._use_backend(settings)
        planned = []
        for index in indices:
            model, face = self._plan(settings, index)
            planned.append((index, model, face, self.reference(face)))  # a bad reference fails before any model runs
        yield from self._parse_references(planned)
        plans = []
        locked_now: list[int] = []  # faces the identity lock restored just now: announced as the others
        for index, model, face, reference in planned:
            if face.identity_lock and reference is not None and not allow_preview:
                face, ran = yield from self._identity_lock(index, model, face, reference)
                if ran:
                    locked_now.append(index)
            plans.append((index, model, face, reference))
        outputs: dict[int, _FaceOutput] = {}
        todo: dict[int, tuple[str, FaceSettings, ReferenceFace | None]] = {}
        for index, model, face, reference in plans:
            key = self._output_key(index, model, face)
            near = self._nearest_output(key) if allow_preview and key not in self._outputs else None
            if key in self._outputs or near is not None:
                outputs[index] = self._finish_face(index, near or key, face, reference, preview=near is not None)
            else:
                todo[index] = (model, face, reference)
        # Faces shown from the cache are parsed together; a face to restore is parsed as it
        # finishes, so it shows without waiting for the others.
        shown = [i for i in outputs if self.mask_kind(settings.for_face(i)) == "parsing"]
        yield from self._parse_steps(shown)
        pasted: list[int] = []

        def finished(index: int, seconds_left: float) -> FaceDone:
            if index in todo:
                model, face, reference = todo[index]
                outputs[index] = self._finish_face(
                    index, self._output_key(index, model, face), face, reference, preview=False
                )
            patch = None
            if paste is not None:
                # Under it, the faces shown from the cache and those done before it.
                for earlier in [i for i in outputs if i not in pasted and i != index]:
                    paste(earlier, outputs[earlier])
                    pasted.append(earlier)
                patch = paste(index, outputs[index])
                pasted.append(index)
            render = self._face_render(index, settings, outputs[index], similarity=False)
            return FaceDone(render, seconds_left, *(patch or (None, None)))

        for done, index in enumerate(locked_now, start=1):
            message = f"face {done} of {len(locked_now)} restored (identity lock)"
            yield ProgressEvent("restore", done, len(locked_now), message, face=finished(index, 0.0))
        yield from self._restore_steps([(i, model, face) for i, (model, face, _) in todo.items()], finished)
        self.last_outputs = {index: outputs[index] for index, *_ in plans}
        return self.last_outputs

    def _parse_references(self, plans: list[tuple[int, str, FaceSettings, ReferenceFace | None]]) -> Steps[None]:
        """Parse the reference faces paired with faces blended through the parsing mask (their
        skin guides the colour); note when ParseNet is asked for but not installed."""
        from .restore import parser_missing_message

        parsed = [(index, reference) for index, _, face, reference in plans if self.mask_kind(face) == "parsing"]
        missing = any(face.mask == "parsing" and self.mask_kind(face) != "parsing" for _, _, face, _ in plans)
        self.mask_note = parser_missing_message() if missing else None
        references = [r for _, r in parsed if r is not None and self._reference_parses.get(r) is None]
        if references:
            yield ProgressEvent("parse", 0, 1, "parsing reference faces")
            t0 = time.perf_counter()
            for reference, parse in zip(
                references, self.face_parser().parse(np.stack([r.rgb8 for r in references])), strict=True
            ):
                self._reference_parses.put(reference, parse)
            self._timed("parse", t0)

    def _skins(
        self, index: int, reference: ReferenceFace | None, mask: str
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Parsed skin of face ``index`` and of its reference face for colour statistics; None
        where a face is not parsed (the template's skin area is used)."""
        if mask != "parsing":
            return None, None
        skin = compose.parsed_skin_mask(self.face_parse(index))
        reference_parse = self._reference_parses.get(reference) if reference is not None else None
        return skin, None if reference_parse is None else compose.parsed_skin_mask(reference_parse)

    def _identity_lock(
        self, index: int, model: str, face: FaceSettings, reference: ReferenceFace
    ) -> Steps[tuple[FaceSettings, bool]]:
        """``face`` at the creativity (of PREFETCH_LEVELS) whose result is closest to the reference,
        and whether models ran to choose it (else the choice was cached)."""
        identity = self.identity()
        if identity is None:
            return face, False
        lock_key = (self._output_key(index, model, face)[:4], reference)
        if lock_key not in self._locked:
            candidates = [_replace_creativity(face, level) for level in PREFETCH_LEVELS]
            yield from self._restore_steps([(index, model, c) for c in candidates])
            restored = np.stack(
                [
                    self._finish_face(index, self._output_key(index, model, c), c, reference, preview=False).rgb
                    for c in candidates
                ]
            )
            best, _ = pick_closest(identity, restored, identity.embed(reference.rgb8))
            self._locked[lock_key] = PREFETCH_LEVELS[best]
            return _replace_creativity(face, self._locked[lock_key]), True
        return _replace_creativity(face, self._locked[lock_key]), False

    def _finish_face(
        self, index: int, key: _OutputKey, face: FaceSettings, reference: ReferenceFace | None, *, preview: bool
    ) -> _FaceOutput:
        """Colour match (to the reference's face when paired, else to the original's), then the
        photo's tone for a monochrome or toned face; cached."""
        raw8 = self._outputs[key]
        raw = np.divide(raw8, np.float32(255.0), dtype=np.float32)
        mask = self.mask_kind(face)
        tone = self.face_tone(index) if face.keep_tone else compose.COLOUR
        restorer = self._restorers.get((key.model, key.backend))
        runs_on = (restorer.backend, restorer.precision) if restorer is not None else (key.backend, "")
        if not face.color_match and not tone.monochrome:
            return _FaceOutput(raw, raw8, key.model, preview, key.creativity, reference, mask, tone.kind, *runs_on)
        final_key = (key, reference, face.color_match, tone.kind, mask)
        final = self._matched.get(final_key)
        if final is None:
            final = raw
            if face.color_match:
                skin, reference_skin = self._skins(index, reference, mask)
                final = match_face_color(
                    raw, self.aligned(index).rgb, reference, skin=skin, reference_skin=reference_skin
                )
            final = compose.retone(final, tone)
            self._matched.put(final_key, final)
        return _FaceOutput(final, raw8, key.model, preview, key.creativity, reference, mask, tone.kind, *runs_on)

    # ----- rendering -------------------------------------------------------------------
    def render_steps(
        self,
        settings: Settings,
        *,
        region: Region | None = None,
        scale: float = 1.0,
        allow_preview: bool = False,
    ) -> Steps[RenderResult]:
        """The preview: 8-bit sRGB of ``region`` (input pixels, clipped to the image; default
        all of it) at ``scale``. Each face restored on the way comes with its patch of the view
        (``FaceDone``), so the canvas can fill in face by face."""
        image = self.image
        x0, y0, x1, y1 = region or (0, 0, image.width, image.height)
        # A view asked for by a window still showing the previous photo may reach past this one.
        x0, x1 = sorted((min(max(x0, 0), image.width), min(max(x1, 0), image.width)))
        y0, y1 = sorted((min(max(y0, 0), image.height), min(max(y1, 0), image.height)))
        if x1 == x0 or y1 == y0:
            raise ValueError(f"render region {region} lies outside the {image.width} x {image.height} image")
        selected = self._selected(settings)
        live: np.ndarray | None = None  # the view with the faces done so far, for FaceDone patches

        def paste(index: int, output: _FaceOutput) -> tuple[Region, np.ndarray] | None:
            nonlocal live
            original = self._view((x0, y0, x1, y1), scale)
            if live is None:
                live = original.copy()
            self._paste(live, original, (x0, y0), scale, settings, index, output, to_native=_srgb8_to_native)
            height, width = live.shape[:2]
            px0, py0, px1, py1 = self.aligned(index).warp.for_canvas((x0, y0), scale).region(width, height)
            if px1 <= px0 or py1 <= py0:
                return None  # the face is outside this view
            patch = live[py0:py1, px0:px1].copy()
            patch.flags.writeable = False
            return (px0, py0, px1, py1), patch

        outputs = yield from self._face_outputs(settings, selected, allow_preview=allow_preview, paste=paste)
        start = time.perf_counter()
        original = self._view((x0, y0, x1, y1), scale)
        canvas = original.copy()
        self._compose(
            canvas, original, (x0, y0), scale, settings, outputs, to_native=_srgb8_to_native, native_max=255.0
        )
        self._timed("compose", start)
        faces = tuple(self._face_render(i, settings, outputs.get(i)) for i in range(len(self._faces)))
        return RenderResult(
            canvas,
            (x0, y0, x1, y1),
            scale,
            faces,
            any(o.preview for o in outputs.values()),
            dict(self.timings),
            original,
            self.notes,
        )

    def _view(self, region: Region, scale: float) -> np.ndarray:
        """The unrestored ``region`` at ``scale`` (read-only); the last one is kept, since a
        slider move re-renders the same view and resizing 12 MP costs more than the faces."""
        key = (id(self.image), region, scale)
        if self._last_view is None or self._last_view[0] != key:
            x0, y0, x1, y1 = region
            view = self.image.working_rgb8()[y0:y1, x0:x1]
            if scale != 1.0:
                size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
                view = cv2.resize(view, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
                view.flags.writeable = False
            self._last_view = (key, view)
        return self._last_view[1]

    def render(
        self,
        settings: Settings,
        progress: Callable[[ProgressEvent], None] | None = None,
        cancel: Event | None = None,
        **options: Any,
    ) -> RenderResult:
        return drive(self.render_steps(settings, **options), progress, cancel)

    def output_steps(self, settings: Settings) -> Steps[LoadedImage]:
        """The full-quality result at output size, in the input's own depth and channels."""
        image = self.image
        out_w, out_h = settings.output.output_size(image.width, image.height)
        check_output_budget(out_w, out_h, image.pixels.shape[2] + (image.alpha is not None), settings.limits)
        outputs = yield from self._face_outputs(settings, self._selected(settings), allow_preview=False)
        start = time.perf_counter()
        if (out_w, out_h) == (image.width, image.height):
            pixels, alpha, original = image.pixels.copy(), image.alpha, image.pixels
        else:
            yield ProgressEvent("upscale", 0, 1, f"upscaling to {out_w} x {out_h}")
            upscaler = self._background_upscaler(settings, out_w / image.width)
            pixels = compose.upscale_image(image.pixels, out_w, out_h, model=upscaler)
            alpha = None if image.alpha is None else compose.upscale_image(image.alpha, out_w, out_h)
            original = pixels  # no second full-size copy: overlapping faces then blend in turn
            self._timed("upscale", start)
            start = time.perf_counter()
        yield ProgressEvent("compose", 0, 1, "pasting faces")
        self._compose(
            pixels,
            original,
            (0, 0),
            out_w / image.width,
            settings,
            outputs,
            to_native=image.to_native,
            native_max=image.native_max(),
        )
        self._timed("compose", start)
        return image.with_pixels(pixels, alpha)

    def render_output(
        self,
        settings: Settings,
        progress: Callable[[ProgressEvent], None] | None = None,
        cancel: Event | None = None,
    ) -> LoadedImage:
        return drive(self.output_steps(settings), progress, cancel)

    def _background_upscaler(self, settings: Settings, factor: float) -> Callable[[np.ndarray], np.ndarray] | None:
        """A Real-ESRGAN tile function when asked for (or ``auto`` and installed), else None (Lanczos)."""
        choice = settings.output.upscaler
        if choice == "lanczos":
            return None
        from .models import find, load_upscaler, require

        name = "realesrgan_x2" if factor <= 2 else "realesrgan_x4"
        path = find(name)
        if path is None:
            if choice == "auto":
                return None
            path = require(name, allow_download=self.allow_download)
        self._note_model(name)
        from .restore import tile_upscaler

        return tile_upscaler(load_upscaler(path, self.device), self.device)

    def _compose(
        self,
        canvas: np.ndarray,
        original: np.ndarray,
        origin: tuple[int, int],
        scale: float,
        settings: Settings,
        outputs: dict[int, _FaceOutput],
        *,
        to_native: Callable[[np.ndarray], np.ndarray],
        native_max: float,
    ) -> None:
        for index, out in outputs.items():
            self._paste(canvas, original, origin, scale, settings, index, out, to_native=to_native)
        if settings.grain.enabled:
            grain_origin = (round(origin[0] * scale), round(origin[1] * scale))
            compose.add_image_grain(canvas, settings.grain, origin=grain_origin, native_max=native_max)

    def _paste(
        self,
        canvas: np.ndarray,
        original: np.ndarray,
        origin: tuple[int, int],
        scale: float,
        settings: Settings,
        index: int,
        out: _FaceOutput,
        *,
        to_native: Callable[[np.ndarray], np.ndarray],
    ) -> None:
        """Face ``index`` into ``canvas`` (``original`` at ``scale`` from ``origin``), with the
        faces' film grain; the whole image's grain is the caller's."""
        aligned = self.aligned(index)
        compose.paste_face(
            canvas,
            out.rgb,
            aligned.warp.for_canvas(origin, scale),
            source_face=aligned.rgb,
            original=original,
            strength=settings.for_face(index).strength,
            to_native=to_native,
            mask=self.blend_mask(index, out.mask),
            grain=settings.grain if settings.grain.enabled else None,
            grain_origin=(round(origin[0] * scale), round(origin[1] * scale)),
        )

    def _face_render(
        self, index: int, settings: Settings, output: _FaceOutput | None, *, similarity: bool = True
    ) -> FaceRender:
        aligned = self.aligned(index)
        thumb = cv2.resize(aligned.rgb8, (THUMB_SIZE, THUMB_SIZE), interpolation=cv2.INTER_AREA)
        restored = None
        if output is not None:
            restored = _to_rgb8(cv2.resize(output.rgb, (THUMB_SIZE, THUMB_SIZE), interpolation=cv2.INTER_AREA))
        reference = output.reference if output else None
        return FaceRender(
            index=index,
            face=self._faces[index],
            selected=settings.is_selected(index),
            model=output.model if output else None,
            preview=output.preview if output else False,
            original_thumb=thumb,
            restored_thumb=restored,
            reference=str(reference.path) if reference else None,
            reference_face=reference.face_index if reference else None,
            reference_faces=reference.face_count if reference else 0,
            similarity=self._similarity(index, output) if similarity else None,
            creativity=output.creativity if output else None,
            mask=output.mask if output else None,
            tone=output.tone if output else None,
            backend=output.backend if output else None,
        )

    def _similarity(self, index: int, output: _FaceOutput | None) -> float | None:
        """Restored vs reference (or vs the original face) by ArcFace; embeddings are cached by content."""
        if output is None or output.preview or (self._identity is None and not identity_available()):
            return None
        identity = self.identity()
        target = output.reference.rgb8 if output.reference is not None else self.aligned(index).rgb8
        restored = _to_rgb8(output.rgb)
        a, b = identity.embed(np.stack([restored, target]))
        return float(np.dot(a, b))

    def face_images(self, index: int, settings: Settings) -> FaceImages:
        """Face ``index``'s aligned input, model output, final face and paste-back weight in the
        latest render (``--save-faces``, the app's mask overlay). ``KeyError`` when it was not restored."""
        output = self.last_outputs[index]
        weight = self.blend_mask(index, output.mask) * np.float32(settings.for_face(index).strength)
        return FaceImages(
            index=index,
            model=output.model,
            mask_kind=output.mask,
            tone=output.tone,
            aligned_rgb8=self.aligned(index).rgb8,
            model_rgb8=output.model_rgb8,
            final_rgb8=_to_rgb8(output.rgb),
            mask=weight,
        )

    def mask_overlay(self, settings: Settings, result: RenderResult) -> np.ndarray:
        """The paste-back weight of every face restored in ``result``, over ``result``'s pixels:
        float32 0..1 of ``result.rgb8``'s height and width (the app's mask overlay). Where faces
        overlap, the larger weight shows."""
        height, width = result.rgb8.shape[:2]
        overlay = np.zeros((height, width), np.float32)
        origin = (result.region[0], result.region[1])
        for face in result.faces:
            if face.mask is None:
                continue
            warp = self.aligned(face.index).warp.for_canvas(origin, result.scale)
            region = warp.region(width, height)
            x0, y0, x1, y1 = region
            weight = warp.to_region(self.blend_mask(face.index, face.mask), region)
            weight *= np.float32(settings.for_face(face.index).strength)
            np.maximum(overlay[y0:y1, x0:x1], np.clip(weight, 0.0, 1.0), out=overlay[y0:y1, x0:x1])
        return overlay

    def identity_report(self, index: int) -> Any:
        """Similarities of one face (original, restored, reference) after the latest render."""
        from .reference import identity_report

        rendered = self.last_outputs.get(index)
        reference = rendered.reference if rendered else None
        identity = self.identity() if identity_available() or self._identity is not None else None
        restored = rendered.rgb if rendered else None
        return identity_report(self.aligned(index).rgb8, restored, reference, identity)

    def _timed(self, stage: str, start: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start


def _to_rgb8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)


def _srgb8_to_native(rgb: np.ndarray) -> np.ndarray:
    return rgb * np.float32(255.0)


def _replace_creativity(face: FaceSettings, creativity: float) -> FaceSettings:
    import dataclasses

    return dataclasses.replace(face, creativity=creativity)


def check_output_budget(width: int, height: int, channels: int, limits: LimitSettings) -> None:
    """Refuse an output over the pixel budget, or larger than the memory free now, before a
    pixel of it is allocated."""
    pixels = width * height
    if pixels > limits.max_pixels:
        raise SettingsError(
            f"the output would be {width} x {height} pixels ({pixels / 1e6:.0f} MP), over the limit of "
            f"{limits.max_megapixels:g} MP; choose a smaller size or scale, or raise the limit (--max-megapixels)"
        )
    needed = output_memory_estimate(width, height, channels)
    free = available_memory()
    if free is not None and needed > free:
        raise SettingsError(
            f"the output would be {width} x {height} pixels and needs about {needed / 1e9:.1f} GB of memory; "
            f"{free / 1e9:.1f} GB is free: choose a smaller size or scale, or close other programs"
        )
