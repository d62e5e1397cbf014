"""Which files a batch restores and where each one's output goes.

A folder batch mirrors the input tree: ``IN/a/b.jpg`` is written into ``OUT/a/`` under the
name the single-file rules give it (``Pipeline.run`` into a folder). A list of files is
written flat into the output folder. Files that are not images are counted, never failed;
hidden files and folders (``.name``) are left alone, and so is the output folder when it
lies inside the input.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import InputError, SettingsError
from ..io import INPUT_EXTENSIONS, same_file
from ..io.formats import detect_format
from ..params import BatchSettings


@dataclass(frozen=True)
class BatchItem:
    """One photo of a batch."""

    key: str  # its name in the manifest: the path below the input folder, or the path as given
    source: Path
    folder: PurePosixPath  # where its output goes, below the output folder

    def output_folder(self, root: Path) -> Path:
        return root.joinpath(*self.folder.parts)


@dataclass(frozen=True)
class Plan:
    """The photos of a batch, in order, and what was left out and why."""

    output: Path
    items: tuple[BatchItem, ...]
    input: Path | None = None  # the folder of a folder batch
    not_images: tuple[str, ...] = ()  # keys of files that are not photos
    excluded: int = 0  # files --include / --exclude left out

    @property
    def sources(self) -> list[Path]:
        return [item.source for item in self.items]


def plan_folder(root: Path, output: Path, batch: BatchSettings, *, avoid: Iterable[Path] = ()) -> Plan:
    """The photos under ``root`` (its sub-folders too with ``batch.recursive``), sorted by path.

    ``avoid``: folders never entered (the output and comparison folders, when inside ``root``).
    """
    if not root.is_dir():
        raise InputError(root, "is not a folder")
    if same_file(root, output):
        raise SettingsError(f"{output}: is the input folder; write the restored tree into another folder")
    avoid = [p for p in avoid if p.is_dir()]
    items: list[BatchItem] = []
    not_images: list[str] = []
    excluded = 0
    for relative in _walk(root, batch.recursive, avoid):
        key = relative.as_posix()
        if not _selected(key, batch):
            excluded += 1
            continue
        source = root.joinpath(*relative.parts)
        if is_image_file(source):
            items.append(BatchItem(key, source, relative.parent))
        else:
            not_images.append(key)
    return Plan(output, tuple(items), root, tuple(not_images), excluded)


def plan_files(sources: Sequence[Path], output: Path) -> Plan:
    """A list of photos, each written into ``output`` itself (the names as the user gave them;
    a name given twice is one file)."""
    unique = dict.fromkeys(str(source) for source in sources)
    return Plan(output, tuple(BatchItem(key, Path(key), PurePosixPath()) for key in unique))


def is_image_file(path: Path) -> bool:
    """A photo by its extension, or by its content when the extension is not a photo's.

    An unreadable file counts as a photo, so its error is reported rather than hidden.
    """
    suffix = path.suffix.lower()
    if suffix in INPUT_EXTENSIONS:
        return True
    try:
        with open(path, "rb") as fh:
            return detect_format(fh, suffix) is not None
    except OSError:
        return True


def _selected(key: str, batch: BatchSettings) -> bool:
    """``--include`` / ``--exclude``: shell globs on the path below the folder, any case; ``*``
    crosses folders, so ``*.tif`` matches at every depth."""
    name = key.lower()
    if batch.include and not any(fnmatch.fnmatchcase(name, glob.lower()) for glob in batch.include):
        return False
    return not any(fnmatch.fnmatchcase(name, glob.lower()) for glob in batch.exclude)


def _walk(root: Path, recursive: bool, avoid: list[Path]) -> Iterable[PurePosixPath]:
    """Relative paths of the files below ``root``, sorted, without hidden entries or ``avoid``.

    Links to folders are not followed (no loops, no leaving the tree); links to files are files.
    """
    pending = [PurePosixPath()]
    while pending:
        relative = pending.pop()
        folder = root.joinpath(*relative.parts)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise InputError(folder, f"cannot be listed: {exc.strerror or exc}") from exc
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                if recursive and not any(same_file(Path(entry.path), other) for other in avoid):
                    subfolders.append(relative / entry.name)
            elif entry.is_file():
                yield relative / entry.name
        pending.extend(reversed(subfolders))
