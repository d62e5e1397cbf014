"""``facemend-cli models``: list, download, import and verify model weights."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from ..models import (
    MODELS,
    ModelSpec,
    ModelStatus,
    download,
    find,
    import_file,
    licence_accepted,
    models_dir,
    spec,
    status,
    statuses,
    verify,
)

STATUS_NOTES = {
    ModelStatus.INSTALLED: "",
    ModelStatus.UNVERIFIED: " (differs from the published file; it will still be used)",
    ModelStatus.MISSING: "",
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("models", help="list, download, import and verify model weights")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="every known model: file, status, size, licence")
    listing.set_defaults(run=run_list)

    fetch = actions.add_parser("download", help="download a model (resumable, checked against its SHA-256)")
    fetch.add_argument("name", choices=list(MODELS), metavar="NAME", help=f"one of: {', '.join(MODELS)}")
    fetch.add_argument("--accept-licence", action="store_true", help="accept the model's licence terms without asking")
    fetch.set_defaults(run=run_download)

    imports = actions.add_parser("import", help="copy a weights file you have into the models folder")
    imports.add_argument("file", type=Path, metavar="FILE")
    imports.add_argument(
        "--name", choices=list(MODELS), metavar="NAME", help="which model it is (default: by file name or hash)"
    )
    imports.add_argument(
        "--force", action="store_true", help="replace a different file already installed (kept as NAME.previous)"
    )
    imports.set_defaults(run=run_import)

    check = actions.add_parser("verify", help="re-hash every model file present and report its status")
    check.set_defaults(run=run_verify)


def run_list(args: argparse.Namespace) -> int:
    found = statuses()
    rows = [("NAME", "FILE", "STATUS", "SIZE", "LICENCE")]
    rows += [(m.name, m.filename, found[m.name].value, human_size(m), m.licence) for m in MODELS.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    print(f"models folder: {models_dir()}")
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def run_download(args: argparse.Namespace) -> int:
    model = spec(args.name)
    if status(model.name) is ModelStatus.INSTALLED:
        print(f"{model.name}: {model.filename} is already installed in {models_dir()}")
        return 0
    accepted = args.accept_licence
    if model.licence_notice and not accepted and not licence_accepted(model.name) and sys.stdin.isatty():
        print(f"{model.title} ({model.licence}): {model.licence_notice}")
        accepted = _ask_yes(f"Accept the terms and download {model.filename}? [y/N] ")
    # Not accepted: download() refuses with the notice and how to accept it.
    with _ByteProgress(model) as progress:
        path = download(model, progress=progress, accept_licence=accepted)
    print(f"{model.name}: installed {path}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    imported = import_file(args.file, name=args.name, force=args.force)
    note = STATUS_NOTES[imported.status]
    print(f"{imported.spec.name}: imported {args.file} as {imported.path}: {imported.status.value}{note}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    present = [m for m in MODELS.values() if find(m.name) is not None]
    if not present:
        print(f"no model files in {models_dir()}")
    for model in present:
        result = verify(model.name)
        print(f"{model.name}  {model.filename}  {result.value}{STATUS_NOTES[result]}")
    return 0


def human_size(model: ModelSpec) -> str:
    size = f"{model.display_size / 1e6:.1f} MB"
    return size if model.size is not None else f"~{size}"


def _ask_yes(prompt: str) -> bool:
    try:
        return input(prompt).strip().lower() in ("y", "yes")
    except EOFError:
        return False


class _ByteProgress:
    """A tqdm byte counter on stderr (silent when stderr is not a terminal), as a progress callback."""

    def __init__(self, model: ModelSpec) -> None:
        self.bar = tqdm(
            total=model.size,
            desc=model.filename,
            unit="B",
            unit_scale=True,
            unit_divisor=1000,
            file=sys.stderr,
            disable=None,
            leave=False,
        )

    def __enter__(self) -> Callable[[int, int], None]:
        return self.update

    def __exit__(self, *exc: object) -> None:
        self.bar.close()

    def update(self, done: int, total: int) -> None:
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)
