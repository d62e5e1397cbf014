"""Which files are photos (no Qt here).

The list of readable extensions is the core's (``restore_core.io``), imported when
first needed so that starting the window does not pay for the image codecs.
"""

from __future__ import annotations

from pathlib import Path


def input_extensions() -> frozenset[str]:
    from restore_core.io import INPUT_EXTENSIONS

    return INPUT_EXTENSIONS


def photo_filter() -> str:
    """A file-dialog filter for every photo the core reads."""
    return f"Photos ({' '.join('*' + e for e in sorted(input_extensions()))});;All files (*)"


def folder_photos(folder: Path, *, recursive: bool = False) -> list[Path]:
    """The photos in ``folder`` (and its sub-folders when ``recursive``), sorted by path; hidden
    files and folders are skipped, as the command line's folder batches skip them."""
    extensions = input_extensions()
    out: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and recursive:
            out.extend(folder_photos(entry, recursive=True))
        elif entry.is_file() and entry.suffix.lower() in extensions:
            out.append(entry)
    return out


def local_files(urls: list) -> list[Path]:
    """The local files among dropped or pasted URLs (``QUrl``s; remote ones are left out)."""
    return [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
