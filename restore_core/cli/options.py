"""Settings from command-line flags: ``--settings FILE.json`` first, then each flag given."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from ..errors import SettingsError
from ..params import DETECTORS, Settings

# flag dest -> (settings section, field)
_FLAGS: dict[str, tuple[str, str]] = {
    "detector": ("detection", "detector"),
    "sensitivity": ("detection", "sensitivity"),
    "min_face": ("detection", "min_face"),
    "max_face": ("detection", "max_face"),
    "only_center_face": ("detection", "only_center_face"),
    "model": ("face", "model"),
    "strength": ("face", "strength"),
    "creativity": ("face", "creativity"),
    "noise_sigma": ("face", "noise_sigma"),
    "blur_sigma": ("face", "blur_sigma"),
    "noise_seed": ("face", "noise_seed"),
    "color_match": ("face", "color_match"),
    "identity_lock": ("face", "identity_lock"),
    "grain": ("grain", "model"),
    "grain_density": ("grain", "density"),
    "grain_size": ("grain", "size"),
    "grain_strength": ("grain", "strength"),
    "grain_seed": ("grain", "seed"),
    "grain_scope": ("grain", "scope"),
    "scale": ("output", "scale"),
    "width": ("output", "width"),
    "height": ("output", "height"),
    "upscaler": ("output", "upscaler"),
    "quality": ("output", "jpeg_quality"),
    "lossless": ("output", "webp_lossless"),
    "max_megapixels": ("limits", "max_megapixels"),
    "max_pixels_per_byte": ("limits", "max_pixels_per_byte"),
}


def add_detection_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("detection")
    group.add_argument("--detector", choices=DETECTORS, help="face detector (default: best installed)")
    group.add_argument("--sensitivity", type=float, metavar="S", help="0..1, higher finds more faces (default 0.5)")
    group.add_argument("--min-face", type=int, metavar="PX", help="ignore faces smaller than PX pixels")
    group.add_argument("--max-face", type=int, metavar="PX", help="ignore faces larger than PX pixels")
    group.add_argument(
        "--only-center-face", action="store_true", default=None, help="restore only the most central face"
    )
    group.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="where models run (default auto)")
    group.add_argument(
        "--settings", metavar="FILE.json", help="settings saved by the app or a report; flags override it"
    )
    bounds = parser.add_argument_group("limits")
    bounds.add_argument(
        "--max-megapixels",
        type=float,
        metavar="MP",
        help="refuse larger images, read or written (default 400)",
    )
    bounds.add_argument(
        "--max-pixels-per-byte",
        type=float,
        metavar="N",
        help="refuse images over 50 MP packed tighter than this, as decompression bombs (default 100)",
    )


def add_restore_flags(parser: argparse.ArgumentParser) -> None:
    face = parser.add_argument_group("restoration")
    face.add_argument("--model", help="auto, gfpgan, codeformer, passthrough, or a model file (default auto)")
    face.add_argument("--strength", type=float, metavar="S", help="0..1 blend over the original (default 1)")
    face.add_argument("--creativity", type=float, metavar="C", help="0 realistic .. 1 creative (default 0.3)")
    face.add_argument("--noise-sigma", type=float, metavar="S", help="pre-conditioning noise 0.001..0.1 (turns it on)")
    face.add_argument("--blur-sigma", type=float, metavar="S", help="pre-conditioning blur 0.01..2 (turns it on)")
    face.add_argument("--noise-seed", type=int, metavar="N", help="pre-conditioning noise seed 1..2000")
    face.add_argument(
        "--no-color-match",
        dest="color_match",
        action="store_false",
        default=None,
        help="keep the model's colours instead of matching the original face's",
    )
    face.add_argument(
        "--reference",
        action="append",
        metavar="I=PATH",
        help="pair face I with a sharper photo of the same person (repeatable)",
    )
    face.add_argument(
        "--reference-face",
        action="append",
        metavar="I=K",
        help="use face K of face I's reference photo (0: leftmost; default: its best face)",
    )
    face.add_argument(
        "--references",
        type=Path,
        metavar="FOLDER",
        help="pair faces automatically with the photos in FOLDER (needs the arcface model)",
    )
    face.add_argument(
        "--pair-threshold", type=float, metavar="S", help="identity similarity needed to pair (default 0.3)"
    )
    face.add_argument(
        "--identity-lock",
        action="store_true",
        default=None,
        help="with a reference: keep the creativity whose face is closest to it (needs arcface)",
    )
    face.add_argument(
        "--identity", action="store_true", help="report identity similarities for every face (needs arcface)"
    )
    grain = parser.add_argument_group("film grain")
    grain.add_argument("--grain", choices=("silver", "gaussian", "grey"), help="add film grain of this kind")
    grain.add_argument("--grain-density", type=float, metavar="D", help="0..1 (default 0.5)")
    grain.add_argument("--grain-size", type=float, metavar="PX", help="1..5 output pixels (default 1)")
    grain.add_argument("--grain-strength", type=float, metavar="S", help="0..1 (default 0.5)")
    grain.add_argument("--grain-seed", type=int, metavar="N", help="same seed, same grain")
    grain.add_argument(
        "--grain-scope", choices=("faces", "image"), help="restored faces only (default) or the whole image"
    )
    output = parser.add_argument_group("output")
    output.add_argument("--scale", type=float, metavar="N", help="output size as a multiple of the input, 1..8")
    output.add_argument("--width", type=int, metavar="PX", help="output width (aspect kept)")
    output.add_argument("--height", type=int, metavar="PX", help="output height (aspect kept)")
    output.add_argument("--upscaler", choices=("auto", "lanczos", "realesrgan"), help="background upscaler")
    output.add_argument("--quality", type=int, metavar="Q", help="JPEG/WebP/HEIC quality 1..100 (default 95)")
    output.add_argument("--lossless", action="store_true", default=None, help="lossless WebP")


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = Settings.load(args.settings) if getattr(args, "settings", None) else Settings()
    sections: dict[str, dict[str, Any]] = {}
    for dest, (section, name) in _FLAGS.items():
        value = getattr(args, dest, None)
        if value is not None:
            sections.setdefault(section, {})[name] = value
    if "grain" in sections and "model" in sections["grain"]:
        sections["grain"]["enabled"] = True
    if any(getattr(args, k, None) is not None for k in ("noise_sigma", "blur_sigma")):
        sections.setdefault("face", {})["precondition"] = True
    changes: dict[str, Any] = {
        section: dataclasses.replace(getattr(settings, section), **values) for section, values in sections.items()
    }
    if getattr(args, "device", None):
        changes["device"] = args.device
    if getattr(args, "faces", None):
        changes["faces"] = parse_indices(args.faces)
    settings = dataclasses.replace(settings, **changes) if changes else settings
    for index, path in parse_references(getattr(args, "reference", None) or []):
        settings = settings.with_override(index, reference=path)
    for index, reference_face in _parse_pairs("--reference-face", getattr(args, "reference_face", None) or []):
        if not settings.for_face(index).reference:
            raise SettingsError(f"--reference-face {index}={reference_face}: face {index} has no --reference")
        settings = settings.with_override(index, reference_face=reference_face)
    return settings


def parse_references(values: list[str]) -> list[tuple[int, str]]:
    """``["0=grandma.jpg", ...]`` -> ``[(0, "grandma.jpg"), ...]``; each file must exist."""
    pairs = []
    for value in values:
        index, path = _split_pair("--reference", value, "FACE_INDEX=PHOTO, like 0=grandma.jpg")
        if not Path(path).expanduser().is_file():
            raise SettingsError(f"--reference {value}: {path} is not a file")
        pairs.append((index, str(Path(path).expanduser())))
    return pairs


def _parse_pairs(flag: str, values: list[str]) -> list[tuple[int, int]]:
    """``["1=2", ...]`` -> ``[(1, 2), ...]``."""
    pairs = []
    for value in values:
        index, number = _split_pair(flag, value, "FACE_INDEX=NUMBER, like 1=0")
        if not number.strip().isdigit():
            raise SettingsError(f"{flag} takes FACE_INDEX=NUMBER, like 1=0, got {value!r}")
        pairs.append((index, int(number)))
    return pairs


def _split_pair(flag: str, value: str, form: str) -> tuple[int, str]:
    index, sep, rest = value.partition("=")
    if not sep or not index.strip().isdigit() or not rest:
        raise SettingsError(f"{flag} takes {form}, got {value!r}")
    return int(index), rest


def parse_indices(text: str) -> tuple[int, ...]:
    try:
        indices = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise SettingsError(f"--faces takes face indices like 0,2,3, got {text!r}") from None
    if any(i < 0 for i in indices):
        raise SettingsError(f"--faces takes face indices (0 or more), got {text!r}")
    return indices
