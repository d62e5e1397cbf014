"""The one never-overwrite rule every writer follows: not an input, not an existing file.

"The same file" is decided by the file system, not by the spelling of the path: a symlink, a
hard link or a ``..`` detour to the input is the input.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import OutputError
from .atomic import check_target


def check_output_path(source: Path | Iterable[Path] | None, target: Path, *, overwrite: bool) -> None:
    """Refuse, before any work, to write ``target`` over an input (``source``: one path or
    several) or, unless ``overwrite``, over any existing file."""
    sources = [] if source is None else [source] if isinstance(source, (str, os.PathLike)) else list(source)
    for original in sources:
        if same_file(target, Path(original)):
            raise OutputError(target, f"is the input {original}; the original is never overwritten")
    check_target(target, overwrite=overwrite)


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (symlinks followed, hard links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # either is missing or unreadable: then writing one cannot change the other
        return False
