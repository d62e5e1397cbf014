"""Progress on the terminal: a tqdm bar per file, fed by the core's ProgressEvents."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..engine import ProgressEvent, Steps, drive


class ProgressPrinter:
    """Shows the stage and face count of one job; silent when stderr is not a terminal."""

    def __init__(self, label: str) -> None:
        self.bar = tqdm(total=1, desc=label, unit="step", leave=False, disable=not sys.stderr.isatty(), file=sys.stderr)

    def __enter__(self) -> ProgressPrinter:  # noqa: PYI034 - final class in practice
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()

    def update(self, event: ProgressEvent) -> None:
        if event.total and self.bar.total != event.total:
            self.bar.reset(total=event.total)
        self.bar.n = event.done
        self.bar.set_postfix_str(f"{event.stage}: {event.message}", refresh=True)

    def drive(self, steps: Steps[Any]) -> Any:
        return drive(steps, self.update)


def print_notes(source: Path, notes: Iterable[str]) -> None:
    """What happened to a photo that the user did not ask for, one line each on stderr."""
    for note in notes:
        print(f"note: {source.name}: {note}", file=sys.stderr)
