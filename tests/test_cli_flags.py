"""The settings flags, the app's control ranges and the README's table all come from params.py."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from devtools.write_readme import README, with_table
from restore_core.cli.options import ALL_FLAGS, add_detection_flags, add_restore_flags, settings_from_args
from restore_core.errors import SettingsError
from restore_core.params import _SECTIONS, Settings, field_info


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_detection_flags(parser)
    add_restore_flags(parser)
    return parser


def _action(parser: argparse.ArgumentParser, flag: str) -> argparse.Action:
    return next(a for a in parser._actions if flag in a.option_strings)


def test_every_flag_takes_its_type_choices_and_help_from_the_field(parser: argparse.ArgumentParser) -> None:
    for flag in ALL_FLAGS:
        info, action = flag.info, _action(parser, flag.flag)
        if info.kind is bool:
            assert action.nargs == 0, flag.flag
            continue
        assert action.type is info.kind and action.choices == info.choices, flag.flag
        assert info.doc and info.doc in (action.help or ""), flag.flag
        if info.range is not None:  # as the user reads it: 0..100,000
            lo, hi = (f"{int(v):,}" if float(v).is_integer() else f"{v:g}" for v in info.range)
            assert f"{lo}..{hi}" in (action.help or ""), flag.flag


def test_every_flag_sets_its_field(parser: argparse.ArgumentParser) -> None:
    for flag in ALL_FLAGS:
        info = flag.info
        if info.kind is bool:
            value, argv = not info.default, [flag.flag]
        elif info.choices:
            value = next(c for c in info.choices if c != info.default)
            argv = [flag.flag, value]
        elif info.range is not None:
            value = info.kind(info.range[1])
            argv = [flag.flag, str(value)]
        else:  # free text: a model name
            value, argv = "passthrough", [flag.flag, "passthrough"]
        settings = settings_from_args(parser.parse_args(argv))
        holder = settings if info.section is None else getattr(settings, info.section)
        assert getattr(holder, info.name) == value, flag.flag


def test_a_value_outside_the_declared_range_is_refused(parser: argparse.ArgumentParser) -> None:
    info = field_info("detection", "min_face")
    assert info.range is not None
    with pytest.raises(SettingsError, match=r"min_face must be between 0 and 100000"):
        settings_from_args(parser.parse_args(["--min-face", str(int(info.range[1]) + 1)]))


def test_every_setting_with_a_range_or_choices_has_a_flag() -> None:
    # reference_face is per face: --reference-face I=K
    flagged = {(flag.section, flag.field) for flag in ALL_FLAGS} | {("face", "reference_face")}
    for section, cls in _SECTIONS.items():
        for f in dataclasses.fields(cls):
            declared = "range" in f.metadata or "choices" in f.metadata
            assert not declared or (section, f.name) in flagged, f"{section}.{f.name} has no flag"
    assert all((None, f.name) in flagged for f in dataclasses.fields(Settings) if "choices" in f.metadata)


def test_the_readme_table_is_generated_from_params() -> None:
    text = README.read_text(encoding="utf-8")
    assert with_table(text) == text, "README.md is stale: run python -m devtools.write_readme"
