"""Rows of the benchmark table, printed to the terminal and written as Markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .machine import Machine


@dataclass(frozen=True)
class Row:
    scenario: str
    case: str
    #: medians in ``unit`` (None: not measured, e.g. the reference has no such step)
    ours: float | None
    reference: float | None
    unit: str  # "s", "ms", "ms/face", "GB"
    target: str = ""
    #: whether the target is met (None: no target for this row)
    met: bool | None = None
    ours_peak_bytes: int | None = None
    reference_peak_bytes: int | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.reference:
            return None
        return self.ours / self.reference


def _value(value: float | None, unit: str) -> str:
    if value is None or math.isnan(value):
        return "-"
    digits = 0 if value >= 100 else 1 if value >= 10 else 2 if value >= 1 else 3
    return f"{value:.{digits}f} {unit}"


def _memory(peak: int | None) -> str:
    return "-" if peak is None else f"{peak / 2**20:,.0f} MB"


def _status(met: bool | None) -> str:
    return "" if met is None else "met" if met else "**missed**"


HEADER = ("scenario", "case", "ours", "reference", "ratio", "target", "status", "peak memory ours / ref", "notes")


def cells(row: Row) -> tuple[str, ...]:
    ratio = row.ratio
    return (
        row.scenario,
        row.case,
        _value(row.ours, row.unit),
        _value(row.reference, row.unit),
        "-" if ratio is None else f"{ratio:.2f}x",
        row.target,
        _status(row.met),
        f"{_memory(row.ours_peak_bytes)} / {_memory(row.reference_peak_bytes)}",
        row.note,
    )


def markdown_table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def text_table(rows: Sequence[Row]) -> str:
    """Aligned plain-text columns for the terminal (notes last, unpadded)."""
    table = [HEADER, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line[:-1], widths, strict=False)) + "  " + line[-1] for line in table
    )


def write_markdown(
    path: Path, rows: Sequence[Row], machine: Machine, command: str, *, load_at_end: float, minutes: float, about: str
) -> None:
    text = "\n".join(
        [
            "# Benchmarks",
            "",
            "Written by the benchmark itself; to reproduce, run from the repository root:",
            "",
            "```sh",
            command,
            "```",
            "",
            "## Machine",
            "",
            *(f"- {line}" for line in machine.lines()),
            f"- load average at end: {load_at_end:.2f}; the bench took {minutes:.1f} minutes",
            "",
            "## Results",
            "",
            "Medians of alternating runs (ours, reference, ours, ...). Ratio = ours / reference. Peak memory:",
            "the most resident memory one run needed above what the process held before it (for the",
            "memory scenario: the whole child process).",
            "",
            markdown_table(rows),
            "",
            "## Scenarios",
            "",
            about,
            "",
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
