"""Restoration parameters: frozen, validated, JSON round-trippable.

Every numeric field declares its range in its metadata; one validator checks them all, so
adding a parameter is one line. ``Settings`` is what crosses from the CLI or the GUI into
the core; ``Settings.for_face(i)`` resolves per-face overrides.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from typing_extensions import Self

from .errors import SettingsError
from .limits import DEFAULT_MAX_PIXELS, DEFAULT_MAX_PIXELS_PER_BYTE

GrainModel = Literal["silver", "gaussian", "grey"]
GrainScope = Literal["faces", "image"]
Device = Literal["auto", "cpu", "cuda", "mps"]
#: What runs the face models (restore_core.restore.backends describes each).
Backend = Literal["auto", "torch", "openvino", "onnxruntime"]
Upscaler = Literal["auto", "lanczos", "realesrgan"]
#: "auto" uses the best installed detector (resnet50, then mobile0.25), downloading resnet50 if none is.
DETECTORS = ("auto", "retinaface_resnet50", "retinaface_mobile0.25")
#: Model names with a meaning of their own; anything else is a path to a model file.
#: The face models are the registry's (``models.face_models()``, in its order; params sits below
#: the models package, so tests/test_face_models.py checks the two agree).
NAMED_MODELS = ("auto", "gfpgan", "codeformer", "gfpgan_v1.3", "restoreformer", "passthrough")
#: How a restored face is blended in: through its parsed face classes (ParseNet; the box when
#: ParseNet is not installed), or through the box (a feathered squircle over the aligned crop).
MASKS = ("parsing", "box")

_T = TypeVar("_T")


def _num(default: float, lo: float, hi: float, doc: str) -> Any:
    return field(default=default, metadata={"range": (lo, hi), "doc": doc})


def _bool(default: bool, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


def _opt(doc: str, lo: float | None = None, hi: float | None = None) -> Any:
    meta: dict[str, Any] = {"doc": doc}
    if lo is not None:
        meta["range"] = (lo, hi)
    return field(default=None, metadata=meta)


#: settings files are a few kB; anything much larger is not one
MAX_SETTINGS_BYTES = 1 << 20
_TYPE_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


_HINTS: dict[type, dict[str, Any]] = {}


def _field_types(cls: type) -> dict[str, Any]:
    """The resolved field types of a settings class (annotations are strings here)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _check_type(name: str, value: Any, hint: Any) -> None:
    """Raise ``SettingsError`` unless ``value`` is of the declared type: no silent coercion
    (``"no"`` is not false, ``2.5`` is not a seed, ``1`` is not true)."""
    options = get_args(hint) if get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    options = tuple(o for o in options if o is not type(None))
    if value is None:
        if len(options) < len(get_args(hint)):  # Optional
            return
        raise SettingsError(f"{name} must be {_TYPE_NAMES.get(options[0], 'given')}, got null")
    for option in options:
        if get_origin(option) is not None:  # tuples: checked by the class that declares them
            return
        if option is bool and isinstance(value, bool):
            return
        if option is int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return
        if option is float and isinstance(value, numbers.Real) and not isinstance(value, bool):
            return
        if option is str and isinstance(value, str):
            return
        if isinstance(option, type) and issubclass(option, _Validated) and isinstance(value, option):
            return
    wanted = " or ".join(_TYPE_NAMES.get(o, getattr(o, "__name__", str(o))) for o in options)
    raise SettingsError(f"{name} must be {wanted}, got {_describe(value)}")


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


class _Validated:
    """Mixin: type, range and choice checks from the field types and metadata, plus JSON helpers."""

    def __post_init__(self) -> None:
        hints = _field_types(type(self))
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            _check_type(f.name, value, hints[f.name])
            if value is None:
                continue
            if "range" in f.metadata:
                lo, hi = f.metadata["range"]
                if not lo <= value <= hi:
                    raise SettingsError(f"{f.name} must be between {lo} and {hi}, got {value}")
            choices = f.metadata.get("choices")
            if choices and value not in choices:
                raise SettingsError(f"{f.name} must be one of {', '.join(choices)}, got {value!r}")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = value.to_json() if isinstance(value, _Validated) else value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return _build(cls, data)


def _build(cls: type[_T], data: Any, where: str = "") -> _T:
    """``cls`` from a JSON object; errors name the section (``where``) they are in."""
    prefix = f"{where}: " if where else ""
    if not isinstance(data, Mapping):
        raise SettingsError(f"{prefix}must be a JSON object of settings, got {_describe(data)}")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(k) for k in set(data) - known)
    if unknown:
        raise SettingsError(f"{prefix}unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    try:
        return cls(**data)
    except SettingsError as exc:
        raise SettingsError(f"{prefix}{exc}") from None


def _describe(value: Any) -> str:
    """A value as the user wrote it, shortened."""
    text = json.dumps(value) if _jsonable(value) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


#: a box drawn on a photo: within this many pixels of it, at least this many pixels wide and high
_BOX_REACH, _MIN_BOX_SIDE = 1_000_000.0, 2.0
_MAX_BOXES = 10_000  # far more faces than a photo holds: a settings file cannot make unbounded work


def _boxes(name: str, value: Any) -> tuple[tuple[float, float, float, float], ...]:
    if not isinstance(value, list | tuple):
        raise SettingsError(f"{name} must be a list of boxes like [[x1, y1, x2, y2]], got {_describe(value)}")
    if len(value) > _MAX_BOXES:
        raise SettingsError(f"{name} holds {len(value)} boxes; at most {_MAX_BOXES} are taken")
    boxes = []
    for box in value:
        numbers_ok = isinstance(box, list | tuple) and len(box) == 4
        numbers_ok = numbers_ok and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in box)
        if not numbers_ok or not all(abs(float(v)) <= _BOX_REACH for v in box):
            raise SettingsError(f"{name}: a box is four pixel positions [x1, y1, x2, y2], got {_describe(box)}")
        x1, y1, x2, y2 = (float(v) for v in box)
        if x2 - x1 < _MIN_BOX_SIDE or y2 - y1 < _MIN_BOX_SIDE:
            raise SettingsError(f"{name}: a box needs x2 > x1 and y2 > y1 (at least 2 pixels), got {_describe(box)}")
        boxes.append((x1, y1, x2, y2))
    return tuple(boxes)


def _choice(default: str, choices: tuple[str, ...], doc: str) -> Any:
    return field(default=default, metadata={"choices": choices, "doc": doc})


@dataclass(frozen=True)
class DetectionSettings(_Validated):
    """Which faces the detector reports."""

    detector: str = _choice("auto", DETECTORS, "face detector network")
    sensitivity: float = _num(0.5, 0.0, 1.0, "higher finds more, smaller, less certain faces")
    min_face: int = _num(0, 0, 100_000, "ignore faces smaller than this many pixels (0: no limit)")
    max_face: int = _num(0, 0, 100_000, "ignore faces larger than this many pixels (0: no limit)")
    only_center_face: bool = _bool(False, "restore only the face nearest the centre")
    #: The user's corrections, for one photo (``Settings.for_another_photo`` drops them): boxes
    #: (x1, y1, x2, y2, photo pixels) drawn around faces the detector missed, and the boxes of
    #: detected faces that are not faces. A detected face overlapping either is left out.
    added: tuple[tuple[float, float, float, float], ...] = field(
        default=(), metadata={"doc": "boxes drawn around faces the detector missed, x1 y1 x2 y2 in photo pixels"}
    )
    removed: tuple[tuple[float, float, float, float], ...] = field(
        default=(), metadata={"doc": "boxes of detected faces that are not faces, x1 y1 x2 y2 in photo pixels"}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("added", "removed"):  # JSON gives lists: kept as tuples, so settings stay hashable
            object.__setattr__(self, name, _boxes(name, getattr(self, name)))

    def drew(self, box: tuple[float, ...]) -> bool:
        """Whether the face with ``box`` was drawn by hand (its box is the user's, exactly)."""
        return tuple(box) in self.added

    @property
    def for_detector(self) -> DetectionSettings:
        """These settings without the user's corrections: what the detector itself is asked."""
        if not self.added and not self.removed:
            return self
        return dataclasses.replace(self, added=(), removed=())

    @property
    def score_threshold(self) -> float:
        """Detector confidence threshold: sensitivity 0 -> 0.95, 0.5 -> 0.8 (facexlib's default), 1 -> 0.35."""
        s = self.sensitivity
        return 0.95 - 0.3 * s if s <= 0.5 else 0.8 - 0.9 * (s - 0.5)


@dataclass(frozen=True)
class FaceSettings(_Validated):
    """How one face is restored. Every field can be overridden per face."""

    model: str = field(
        default="auto",
        metadata={
            "doc": f"{', '.join(NAMED_MODELS)} or a model file; auto picks, among the installed models, a "
            "codebook model (CodeFormer, RestoreFormer) for tiny or blurred faces and a detail model (GFPGAN) "
            "otherwise; passthrough runs no network"
        },
    )
    strength: float = _num(1.0, 0.0, 1.0, "blend of the restored face over the original (0: untouched)")
    creativity: float = _num(
        0.3,
        0.0,
        1.0,
        "0 keeps the face as it is, 1 lets the model invent more detail (CodeFormer: fidelity 1 - creativity; "
        "other models: the face is softened before the model)",
    )
    color_match: bool = _bool(True, "match the restored face's colour to the original face's")
    mask: str = _choice("parsing", MASKS, "blend through the parsed face (hair, neck, background kept) or the box")
    #: black-and-white and toned (sepia, cyanotype) photos and faces: keep the restored face's
    #: lightness only, in the photo's own tone
    keep_tone: bool = _bool(
        True, "restore the faces of black-and-white and toned (sepia, cyanotype) photos in the photo's own tone"
    )
    precondition: bool = _bool(False, "add the noise and blur below to the aligned face before the model")
    noise_sigma: float = _num(0.015, 0.001, 0.1, "pre-conditioning noise, in 0..1 pixel units")
    blur_sigma: float = _num(0.4, 0.01, 2.0, "pre-conditioning blur, in aligned-face pixels")
    noise_seed: int = _num(1, 1, 2000, "seed of the pre-conditioning noise")
    reference: str | None = field(default=None, metadata={"doc": "path of a sharper photo of the same person"})
    reference_face: int | None = _opt(
        "which face of the reference photo (0: leftmost); default: its best face", 0, 9999
    )
    identity_lock: bool = _bool(
        False, "with a reference: keep the creativity whose face is closest to it (needs the arcface model)"
    )


@dataclass(frozen=True)
class FaceOverride(_Validated):
    """Per-face changes to ``FaceSettings``; ``None`` keeps the global value."""

    model: str | None = _opt("model for this face")
    strength: float | None = _opt("strength for this face", 0.0, 1.0)
    creativity: float | None = _opt("creativity for this face", 0.0, 1.0)
    color_match: bool | None = None
    mask: str | None = field(default=None, metadata={"choices": MASKS, "doc": "mask for this face"})
    keep_tone: bool | None = None
    precondition: bool | None = None
    noise_sigma: float | None = _opt("noise for this face", 0.001, 0.1)
    blur_sigma: float | None = _opt("blur for this face", 0.01, 2.0)
    noise_seed: int | None = _opt("noise seed for this face", 1, 2000)
    reference: str | None = None
    reference_face: int | None = _opt("which face of this face's reference photo", 0, 9999)
    identity_lock: bool | None = None

    def apply(self, base: FaceSettings) -> FaceSettings:
        changes = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
        return dataclasses.replace(base, **changes) if changes else base


@dataclass(frozen=True)
class GrainSettings(_Validated):
    """Film grain added after restoration so restored faces match the photo's texture."""

    enabled: bool = _bool(False, "add film grain")
    model: str = _choice("silver", get_args(GrainModel), "grain kind")
    density: float = _num(0.5, 0.0, 1.0, "how many grains")
    size: float = _num(1.0, 1.0, 5.0, "grain size in output pixels")
    strength: float = _num(0.5, 0.0, 1.0, "grain contrast")
    seed: int = _num(0, 0, 2**31 - 1, "same seed and input give the same grain")
    scope: str = _choice("faces", get_args(GrainScope), "restored faces only, or the whole image")


@dataclass(frozen=True)
class OutputSettings(_Validated):
    """Output size and encoding. ``width``/``height`` win over ``scale``; aspect is kept."""

    scale: float = _num(1.0, 1.0, 8.0, "output size as a multiple of the input")
    width: int | None = _opt("output width in pixels", 1, 1_000_000)
    height: int | None = _opt("output height in pixels", 1, 1_000_000)
    upscaler: str = _choice("auto", get_args(Upscaler), "background upscaler")
    jpeg_quality: int = _num(95, 1, 100, "JPEG/WebP/HEIC quality")
    webp_lossless: bool = _bool(False, "lossless WebP")

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """Output (width, height) for an input of ``width`` x ``height``."""
        if self.width and self.height:
            raise SettingsError("give width or height, not both: the aspect ratio is kept")
        if self.width:
            return self.width, max(1, round(height * self.width / width))
        if self.height:
            return max(1, round(width * self.height / height)), self.height
        return max(1, round(width * self.scale)), max(1, round(height * self.scale))


@dataclass(frozen=True)
class LimitSettings(_Validated):
    """Work Facemend refuses before it starts, so one file cannot exhaust the machine."""

    max_megapixels: float = _num(
        DEFAULT_MAX_PIXELS / 1e6, 1.0, 100_000.0, "largest image read or written, in megapixels (input and output)"
    )
    max_pixels_per_byte: float = _num(
        DEFAULT_MAX_PIXELS_PER_BYTE, 1.0, 1e9, "refuse images over 50 MP packed tighter than this (decompression bombs)"
    )

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1e6)


@dataclass(frozen=True)
class Settings(_Validated):
    """Everything one restoration needs besides the image itself."""

    detection: DetectionSettings = field(default_factory=DetectionSettings)
    face: FaceSettings = field(default_factory=FaceSettings)
    grain: GrainSettings = field(default_factory=GrainSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    #: indices (into the detected faces) to restore; None restores all.
    faces: tuple[int, ...] | None = None
    #: (face index, override) pairs; a tuple so Settings stays hashable.
    overrides: tuple[tuple[int, FaceOverride], ...] = ()
    device: str = _choice("auto", get_args(Device), "where models run")
    backend: str = _choice(
        "auto",
        get_args(Backend),
        "what runs the face models: auto is torch on CUDA and MPS, OpenVINO on a CPU (when installed)",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.faces is not None and any(not _is_index(i) for i in self.faces):
            raise SettingsError(f"faces must be face indices (0, 1, ...), got {list(self.faces)!r}")
        if any(not _is_index(i) or not isinstance(o, FaceOverride) for i, o in self.overrides):
            raise SettingsError("overrides must pair face indices (0, 1, ...) with face settings")

    def for_another_photo(self) -> Settings:
        """These settings without the parts that belong to one photo: which faces, per-face
        choices, faces drawn or removed by hand (they keep no meaning on another photo)."""
        detection = self.detection.for_detector
        if self.faces is None and not self.overrides and detection is self.detection:
            return self
        return dataclasses.replace(self, faces=None, overrides=(), detection=detection)

    def for_face(self, index: int) -> FaceSettings:
        for i, override in self.overrides:
            if i == index:
                return override.apply(self.face)
        return self.face

    def is_selected(self, index: int) -> bool:
        return self.faces is None or index in self.faces

    def with_override(self, index: int, **changes: Any) -> Settings:
        """A copy in which face ``index`` carries ``changes`` on top of its current override."""
        current = dict(self.overrides).get(index, FaceOverride())
        merged = dataclasses.replace(current, **changes)
        rest = tuple((i, o) for i, o in self.overrides if i != index)
        return dataclasses.replace(self, overrides=tuple(sorted((*rest, (index, merged)))))

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out["faces"] = list(self.faces) if self.faces is not None else None
        out["overrides"] = {str(i): o.to_json() for i, o in self.overrides}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Settings:
        if not isinstance(data, Mapping):
            raise SettingsError(f"settings must be a JSON object, got {_describe(data)}")
        kwargs: dict[str, Any] = {k: _build(section, data[k], k) for k, section in _SECTIONS.items() if k in data}
        if data.get("faces") is not None:
            faces = data["faces"]
            if not isinstance(faces, list) or not all(_is_index(i) for i in faces):
                raise SettingsError(f"faces must be a list of face indices like [0, 2], got {_describe(faces)}")
            kwargs["faces"] = tuple(faces)
        overrides = data.get("overrides")
        if overrides:
            if not isinstance(overrides, Mapping) or not all(str(i).isdigit() for i in overrides):
                raise SettingsError(
                    'overrides must map face indices to face settings, like {"0": {"strength": 0.5}}, '
                    f"got {_describe(overrides)}"
                )
            kwargs["overrides"] = tuple(
                sorted((int(i), _build(FaceOverride, o, f"overrides.{i}")) for i, o in overrides.items())
            )
        rest = {k: v for k, v in data.items() if k not in kwargs and k not in ("faces", "overrides")}
        return _build(cls, {**rest, **kwargs})

    @classmethod
    def load(cls, path: str | Path) -> Settings:
        """Settings from a JSON file; every problem is one ``SettingsError`` naming the file."""
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_SETTINGS_BYTES + 1)
        except OSError as exc:
            raise SettingsError(f"{path}: cannot read settings: {exc.strerror or exc}") from exc
        if len(raw) > MAX_SETTINGS_BYTES:
            raise SettingsError(f"{path}: is over {MAX_SETTINGS_BYTES // 1024} kB, too large for a settings file")
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise SettingsError(f"{path}: is not a settings file (not UTF-8 text)") from None
        except json.JSONDecodeError as exc:
            raise SettingsError(
                f"{path}: is not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
            ) from None
        except RecursionError:
            raise SettingsError(f"{path}: is nested too deeply to be a settings file") from None
        try:
            return cls.from_json(data)
        except SettingsError as exc:
            raise SettingsError(f"{path}: {exc}") from None

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)


@dataclass(frozen=True)
class BatchSettings(_Validated):
    """How a batch finds its photos and where it runs. Options of the ``restore`` command, not
    part of ``Settings``: they change which files are done and by whom, never their pixels."""

    recursive: bool = field(default=False, metadata={"doc": "also restore the photos in sub-folders"})
    include: tuple[str, ...] = field(
        default=(), metadata={"doc": "only files whose path below the folder matches one of these globs"}
    )
    exclude: tuple[str, ...] = field(default=(), metadata={"doc": "leave out files whose path matches these globs"})
    redo: bool = field(
        default=False, metadata={"doc": "restore every file again (by default finished files are skipped)"}
    )
    ray: str | None = field(
        default=None, metadata={"doc": "run on Ray: auto (a local runtime sized to this machine) or a cluster address"}
    )
    actors: int | None = _opt(
        "Ray workers, each holding the models (default: one per GPU, else per CPU cores)", 1, 100_000
    )
    cpus_per_actor: float | None = _opt("CPU cores per Ray worker without a GPU (default 1)", 0.25, 1024)
    in_flight: int = _num(2, 1, 64, "files queued per Ray worker, so none waits for work")
    attempts: int = _num(2, 1, 10, "tries of a file whose Ray worker dies; then it is reported failed")

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("include", "exclude"):
            globs = getattr(self, name)
            if not isinstance(globs, tuple) or not all(isinstance(g, str) and g for g in globs):
                raise SettingsError(f"{name} must be a list of file name patterns like *.jpg, got {_describe(globs)}")
        if self.ray is not None and not self.ray.strip():
            raise SettingsError("ray must be auto or a cluster address like 10.0.0.1:6379, got an empty text")


#: the sections of ``Settings``: each a JSON object of its own
_SECTIONS: dict[str, type[_Validated]] = {
    "detection": DetectionSettings,
    "face": FaceSettings,
    "grain": GrainSettings,
    "output": OutputSettings,
    "limits": LimitSettings,
}
#: declarations that are command-line flags too, though not part of ``Settings``
_OPTIONS: dict[str, type[_Validated]] = {"batch": BatchSettings}


@dataclass(frozen=True)
class FieldInfo:
    """What a settings field declares: the one source the CLI flags, the app's controls and
    the README's parameter table are built from."""

    section: str | None  # "face", "grain"...; None for a top-level field of ``Settings``
    name: str
    kind: type  # bool, int, float or str
    default: Any
    range: tuple[float, float] | None
    choices: tuple[str, ...] | None
    doc: str


def field_range(section: str | None, name: str) -> tuple[float, float]:
    """The range a numeric field declares (a slider's or a spin box's ends)."""
    declared = field_info(section, name).range
    if declared is None:
        raise KeyError(f"{section}.{name} declares no range")
    return declared


def field_info(section: str | None, name: str) -> FieldInfo:
    """The declaration of ``section.name`` (``section`` None: a field of ``Settings`` itself;
    ``"batch"``: of ``BatchSettings``)."""
    cls: type = Settings if section is None else _SECTIONS.get(section) or _OPTIONS[section]
    declared = {f.name: f for f in fields(cls)}
    if name not in declared:
        raise KeyError(f"{section}.{name}" if section else name)
    f = declared[name]
    hint = _field_types(cls)[name]
    options = [o for o in (get_args(hint) or (hint,)) if o is not type(None)]
    return FieldInfo(
        section=section,
        name=name,
        kind=options[0],
        default=f.default,
        range=f.metadata.get("range"),
        choices=f.metadata.get("choices"),
        doc=f.metadata.get("doc", ""),
    )
