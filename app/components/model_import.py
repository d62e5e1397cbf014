"""Installing a model file a person picked by hand, under any file name.

The core's ``import_file`` knows a file by its registry file name or its published hash;
otherwise it must be told which model the file is (the CLI's ``--name``), and the file must
then load as that kind of model. A file picked in a dialog may be named anything
("download (1).bin") and may be an unpublished copy, so it is tried as each model the dialog
is asking for, in order. A different file already installed is replaced only on a yes (the
old one is kept as ``<name>.previous``), as ``--force`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from restore_core.errors import ModelError, ModelInPlaceError, UnknownModelError
from restore_core.models import ImportedModel, ModelSpec, import_file


@dataclass(frozen=True)
class ReplaceNeeded:
    """``source`` is a ``title`` file, but a different one is installed at ``target``."""

    source: Path
    target: Path
    title: str


def import_picked(path: Path, wanted: Sequence[ModelSpec], *, replace: bool = False) -> ImportedModel | ReplaceNeeded:
    """Import ``path`` as the model its name or hash says, else as the first of ``wanted`` it
    loads as; ``ReplaceNeeded`` when that would replace another installed file and ``replace``
    is not given. Raises ``ModelError`` saying why when it is none of them."""
    try:
        try:
            return import_file(path, force=replace)
        except UnknownModelError:
            if not wanted:
                raise
        for spec in wanted:
            try:
                return import_file(path, spec.name, force=replace)
            except ModelInPlaceError:
                raise
            except ModelError:
                continue  # not this kind of model: the next one
    except ModelInPlaceError as exc:
        return ReplaceNeeded(path, exc.target, exc.title)
    titles = " or ".join(spec.title for spec in wanted)
    raise ModelError(f"{path}: it is not a published model file, and it does not load as {titles}")
