"""Settings from command-line flags: ``--settings FILE.json`` first, then each flag given."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SettingsError
from ..params import FieldInfo, Settings, field_info


@dataclass(frozen=True)
class Flag:
    """A command-line flag that sets one settings field; its type, range, choices, default and
    help come from the field's declaration in params.py (``params.field_info``)."""

    flag: str
    section: str | None  # None: a field of Settings itself (device)
    field: str
    metavar: str | None = None
    also: str = ""  # what giving the flag also does, e.g. "turns pre-conditioning on"
    short: str = ""  # a one-letter alias, like -r

    @property
    def names(self) -> tuple[str, ...]:
        return (self.short, self.flag) if self.short else (self.flag,)

    @property
    def dest(self) -> str:
        return self.field if self.flag.startswith("--no-") else self.flag.removeprefix("--").replace("-", "_")

    @property
    def info(self) -> FieldInfo:
        return field_info(self.section, self.field)

    def help(self) -> str:
        info = self.info
        doc = f"don't {info.doc}" if self.flag.startswith("--no-") else info.doc
        parts = [doc] if doc else []
        if info.range is not None and info.kind is not bool:
            parts.append(f"{_number(info.range[0])}..{_number(info.range[1])}")
        if info.default is not None and info.kind is not bool:
            parts.append(f"default {_number(info.default) if info.kind is not str else info.default}")
        if self.also:
            parts.append(self.also)
        return "; ".join(parts)


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


#: The settings flags by help group, in --help order (restore has them all; detect the first two).
DETECTION_FLAGS = (
    Flag("--detector", "detection", "detector"),
    Flag("--sensitivity", "detection", "sensitivity", "S"),
    Flag("--min-face", "detection", "min_face", "PX"),
    Flag("--max-face", "detection", "max_face", "PX"),
    Flag("--only-center-face", "detection", "only_center_face"),
    Flag("--device", None, "device"),
    Flag("--backend", None, "backend"),
)
LIMIT_FLAGS = (
    Flag("--max-megapixels", "limits", "max_megapixels", "MP"),
    Flag("--max-pixels-per-byte", "limits", "max_pixels_per_byte", "N"),
)
RESTORE_FLAGS = (
    Flag("--model", "face", "model", "NAME|FILE"),
    Flag("--strength", "face", "strength", "S"),
    Flag("--creativity", "face", "creativity", "C"),
    Flag("--noise-sigma", "face", "noise_sigma", "S", "turns pre-conditioning on"),
    Flag("--blur-sigma", "face", "blur_sigma", "S", "turns pre-conditioning on"),
    Flag("--noise-seed", "face", "noise_seed", "N"),
    Flag("--no-color-match", "face", "color_match"),
    Flag("--mask", "face", "mask"),
    Flag("--no-keep-tone", "face", "keep_tone"),
    Flag("--identity-lock", "face", "identity_lock"),
)
GRAIN_FLAGS = (
    Flag("--grain", "grain", "model", also="turns film grain on"),
    Flag("--grain-density", "grain", "density", "D"),
    Flag("--grain-size", "grain", "size", "PX"),
    Flag("--grain-strength", "grain", "strength", "S"),
    Flag("--grain-seed", "grain", "seed", "N"),
    Flag("--grain-scope", "grain", "scope"),
)
OUTPUT_FLAGS = (
    Flag("--scale", "output", "scale", "N"),
    Flag("--width", "output", "width", "PX"),
    Flag("--height", "output", "height", "PX"),
    Flag("--upscaler", "output", "upscaler"),
    Flag("--quality", "output", "jpeg_quality", "Q"),
    Flag("--lossless", "output", "webp_lossless"),
)
ALL_FLAGS = (*DETECTION_FLAGS, *LIMIT_FLAGS, *RESTORE_FLAGS, *GRAIN_FLAGS, *OUTPUT_FLAGS)


def parameters_table() -> str:
    """The README's table of the settings flags (devtools/write_readme.py puts it there)."""
    rows = ["| flag | range | default | meaning |", "|---|---|---|---|"]
    for flag in ALL_FLAGS:
        info = flag.info
        if info.choices:
            allowed = " / ".join(info.choices)
        elif info.range is not None and info.kind is not bool:
            allowed = f"{_number(info.range[0])}..{_number(info.range[1])}"
        else:
            allowed = ""
        default = (
            ""
            if info.default is None or info.kind is bool
            else f"`{_number(info.default) if info.kind is not str else info.default}`"
        )
        meaning = f"don't {info.doc}" if flag.flag.startswith("--no-") else info.doc
        if flag.also:
            meaning += f"; {flag.also}"
        rows.append(f"| `{flag.flag}` | {allowed} | {default} | {meaning} |")
    return "\n".join(rows)


def _add(group: argparse._ArgumentGroup, flag: Flag) -> None:
    info = flag.info
    if info.kind is bool:
        # a flag turns a default off (--no-...) or on; not given (None) keeps the settings file's value
        action = "store_false" if flag.flag.startswith("--no-") else "store_true"
        group.add_argument(*flag.names, dest=flag.dest, action=action, default=None, help=flag.help())
        return
    group.add_argument(
        *flag.names, dest=flag.dest, type=info.kind, choices=info.choices, metavar=flag.metavar, help=flag.help()
    )


def add_flag_group(parser: argparse.ArgumentParser, title: str, flags: tuple[Flag, ...]) -> argparse._ArgumentGroup:
    group = parser.add_argument_group(title)
    for flag in flags:
        _add(group, flag)
    return group


def add_detection_flags(parser: argparse.ArgumentParser) -> None:
    group = add_flag_group(parser, "detection", DETECTION_FLAGS)
    group.add_argument(
        "--settings", metavar="FILE.json", help="settings saved by the app or a report; flags override it"
    )
    add_limit_flags(parser)


def add_limit_flags(parser: argparse.ArgumentParser) -> None:
    """The work budgets (also the server's: a request cannot raise them)."""
    add_flag_group(parser, "limits", LIMIT_FLAGS)


def add_restore_flags(parser: argparse.ArgumentParser) -> None:
    face = add_flag_group(parser, "restoration", RESTORE_FLAGS)
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
        "--identity", action="store_true", help="report identity similarities for every face (needs arcface)"
    )
    add_flag_group(parser, "film grain", GRAIN_FLAGS)
    add_flag_group(parser, "output", OUTPUT_FLAGS)


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = Settings.load(args.settings) if getattr(args, "settings", None) else Settings()
    sections: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for flag in ALL_FLAGS:
        value = getattr(args, flag.dest, None)
        if value is not None:
            (top if flag.section is None else sections.setdefault(flag.section, {}))[flag.field] = value
    if "grain" in sections and "model" in sections["grain"]:
        sections["grain"]["enabled"] = True
    if any(getattr(args, k, None) is not None for k in ("noise_sigma", "blur_sigma")):
        sections.setdefault("face", {})["precondition"] = True
    changes: dict[str, Any] = {
        section: dataclasses.replace(getattr(settings, section), **values) for section, values in sections.items()
    }
    changes.update(top)
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
