"""Which files are photos (no Qt here).

The list of readable extensions is the core's (``restore_core.io``), imported when
first needed so that starting the window does not pay for the image codecs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def input_extensions() -> frozenset[str]:
    from restore_core.io import INPUT_EXTENSIONS

    return INPUT_EXTENSIONS


def photo_filter() -> str:
    """A file-dialog filter for every photo the core reads."""
    return f"Photos ({' '.join('*' + e for e in sorted(input_extensions()))});;All files (*)"


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given (a file that is no photo is reported when opened), folders as the photos
    directly inside them, sorted by name; hidden files are skipped."""
    extensions = input_extensions()
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(
                sorted(
                    p
                    for p in path.iterdir()
                    if p.is_file() and p.suffix.lower() in extensions and not p.name.startswith(".")
                )
            )
        else:
            out.append(path)
    return out


def local_files(urls: list) -> list[Path]:
    """The local files among dropped or pasted URLs (``QUrl``s; remote ones are left out)."""
    return [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
