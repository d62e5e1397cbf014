"""Restoration parameters: frozen, validated, JSON round-trippable.

Every numeric field declares its range in its metadata; one validator checks them all, so
adding a parameter is one line. ``Settings`` is what crosses from the CLI or the GUI into
the core; ``Settings.for_face(i)`` resolves per-face overrides.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from typing_extensions import Self

from .errors import SettingsError

GrainModel = Literal["silver", "gaussian", "grey"]
GrainScope = Literal["faces", "image"]
Device = Literal["auto", "cpu", "cuda", "mps"]
Upscaler = Literal["auto", "lanczos", "realesrgan"]
#: "auto" uses the best installed detector (resnet50, then mobile0.25), downloading resnet50 if none is.
DETECTORS = ("auto", "retinaface_resnet50", "retinaface_mobile0.25")
#: Model names with a meaning of their own; anything else is a path to a model file.
NAMED_MODELS = ("auto", "gfpgan", "codeformer", "passthrough")

_T = TypeVar("_T")


def _num(default: float, lo: float, hi: float, doc: str) -> Any:
    return field(default=default, metadata={"range": (lo, hi), "doc": doc})


def _opt(doc: str, lo: float | None = None, hi: float | None = None) -> Any:
    meta: dict[str, Any] = {"doc": doc}
    if lo is not None:
        meta["range"] = (lo, hi)
    return field(default=None, metadata=meta)


class _Validated:
    """Mixin: range, choice and type checks from field metadata, plus JSON helpers."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, bool) and "range" in f.metadata:
                raise SettingsError(f"{f.name} must be a number, got {value!r}")
            if "range" in f.metadata:
                if not isinstance(value, (int, float)):
                    raise SettingsError(f"{f.name} must be a number, got {value!r}")
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


def _build(cls: type[_T], data: Mapping[str, Any]) -> _T:
    if not isinstance(data, Mapping):
        raise SettingsError(f"{cls.__name__} settings must be a JSON object, got {data!r}")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    try:
        return cls(**data)
    except TypeError as exc:
        raise SettingsError(str(exc)) from exc


def _choice(default: str, choices: tuple[str, ...], doc: str) -> Any:
    return field(default=default, metadata={"choices": choices, "doc": doc})


@dataclass(frozen=True)
class DetectionSettings(_Validated):
    """Which faces the detector reports."""

    detector: str = _choice("auto", DETECTORS, "face detector network")
    sensitivity: float = _num(0.5, 0.0, 1.0, "higher finds more, smaller, less certain faces")
    min_face: int = _num(0, 0, 100_000, "ignore faces smaller than this many pixels (0: no limit)")
    max_face: int = _num(0, 0, 100_000, "ignore faces larger than this many pixels (0: no limit)")
    only_center_face: bool = False

    @property
    def score_threshold(self) -> float:
        """Detector confidence threshold: sensitivity 0 -> 0.95, 0.5 -> 0.8 (facexlib's default), 1 -> 0.35."""
        s = self.sensitivity
        return 0.95 - 0.3 * s if s <= 0.5 else 0.8 - 0.9 * (s - 0.5)


@dataclass(frozen=True)
class FaceSettings(_Validated):
    """How one face is restored. Every field can be overridden per face."""

    model: str = field(default="auto", metadata={"doc": "auto, gfpgan, codeformer, passthrough or a model file"})
    strength: float = _num(1.0, 0.0, 1.0, "blend of the restored face over the original (0: untouched)")
    creativity: float = _num(0.3, 0.0, 1.0, "realistic (0) to creative (1)")
    color_match: bool = True
    precondition: bool = False
    noise_sigma: float = _num(0.015, 0.001, 0.1, "pre-conditioning noise, in 0..1 pixel units")
    blur_sigma: float = _num(0.4, 0.01, 2.0, "pre-conditioning blur, in aligned-face pixels")
    noise_seed: int = _num(1, 1, 2000, "seed of the pre-conditioning noise")
    reference: str | None = field(default=None, metadata={"doc": "path of a sharper photo of the same person"})
    reference_face: int | None = _opt(
        "which face of the reference photo (0: leftmost); default: its best face", 0, 9999
    )
    #: with a reference and the identity model: render a few creativities, keep the closest to the reference
    identity_lock: bool = False


@dataclass(frozen=True)
class FaceOverride(_Validated):
    """Per-face changes to ``FaceSettings``; ``None`` keeps the global value."""

    model: str | None = _opt("model for this face")
    strength: float | None = _opt("strength for this face", 0.0, 1.0)
    creativity: float | None = _opt("creativity for this face", 0.0, 1.0)
    color_match: bool | None = None
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

    enabled: bool = False
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
    webp_lossless: bool = False

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
class Settings(_Validated):
    """Everything one restoration needs besides the image itself."""

    detection: DetectionSettings = field(default_factory=DetectionSettings)
    face: FaceSettings = field(default_factory=FaceSettings)
    grain: GrainSettings = field(default_factory=GrainSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    #: indices (into the detected faces) to restore; None restores all.
    faces: tuple[int, ...] | None = None
    #: (face index, override) pairs; a tuple so Settings stays hashable.
    overrides: tuple[tuple[int, FaceOverride], ...] = ()
    device: str = _choice("auto", get_args(Device), "where models run")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.faces is not None and any((not isinstance(i, int)) or i < 0 for i in self.faces):
            raise SettingsError(f"faces must be face indices (0, 1, ...), got {self.faces!r}")

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
            raise SettingsError(f"settings must be a JSON object, got {data!r}")
        sections = {
            "detection": DetectionSettings,
            "face": FaceSettings,
            "grain": GrainSettings,
            "output": OutputSettings,
        }
        kwargs: dict[str, Any] = {k: _build(t, data[k]) for k, t in sections.items() if k in data}
        if data.get("faces") is not None:
            kwargs["faces"] = tuple(data["faces"])
        if data.get("overrides"):
            try:
                kwargs["overrides"] = tuple(
                    sorted((int(i), _build(FaceOverride, o)) for i, o in data["overrides"].items())
                )
            except (AttributeError, ValueError) as exc:
                raise SettingsError(f"overrides must map face indices to settings: {exc}") from exc
        if "device" in data:
            kwargs["device"] = data["device"]
        return _build(
            cls, {**{k: v for k, v in data.items() if k not in kwargs and k not in ("faces", "overrides")}, **kwargs}
        )

    @classmethod
    def load(cls, path: str | Path) -> Settings:
        try:
            return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise SettingsError(f"{path}: cannot read settings: {exc}") from exc

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)
