"""``restore FOLDER -o OUT`` and ``restore A B ... -o OUT``: batches, on the command line.

A thin layer: the flags become ``BatchSettings`` and a ``WorkerSpec``; planning, resuming,
the manifest and the executors live in ``restore_core.batch``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..batch import Batch, BatchSummary, FileJob, FileRecord, LocalExecutor, Plan, WorkerSpec, plan_files, plan_folder
from ..batch.run import Executor
from ..engine import Steps
from ..errors import SettingsError
from ..faces import DetectedFace
from ..params import BatchSettings, Settings
from ..pipeline import Comparison, Result
from .options import Flag, add_flag_group
from .progress import ProgressPrinter, print_notes

#: the batch flags made from BatchSettings' declarations (--include, --exclude and --resume by hand below)
BATCH_FLAGS = (
    Flag("--recursive", "batch", "recursive", short="-r"),
    Flag("--redo", "batch", "redo"),
    Flag("--ray", "batch", "ray", "auto|ADDRESS"),
    Flag("--actors", "batch", "actors", "N"),
    Flag("--cpus-per-actor", "batch", "cpus_per_actor", "N"),
)
_GLOB_FLAGS = (Flag("--include", "batch", "include", "GLOB"), Flag("--exclude", "batch", "exclude", "GLOB"))


def add_batch_flags(parser: argparse.ArgumentParser) -> None:
    group = add_flag_group(parser, "batches (a folder, or several photos, into the -o folder)", BATCH_FLAGS)
    for flag in _GLOB_FLAGS:  # lists: one pattern per flag, repeatable
        group.add_argument(
            flag.flag, dest=flag.dest, action="append", metavar=flag.metavar, help=f"{flag.info.doc} (repeatable)"
        )
    group.add_argument(
        "--resume", dest="redo", action="store_false", default=None, help="skip finished files (the default)"
    )


def batch_settings_from_args(args: argparse.Namespace) -> BatchSettings:
    values: dict[str, Any] = {flag.field: getattr(args, flag.dest, None) for flag in BATCH_FLAGS}
    values.update({flag.field: tuple(getattr(args, flag.dest, None) or ()) or None for flag in _GLOB_FLAGS})
    return BatchSettings(**{k: v for k, v in values.items() if v is not None})


def refuse_batch_flags(args: argparse.Namespace) -> None:
    """Batch flags with one photo would be ignored without a word: say so instead."""
    given = [flag.flag for flag in (*BATCH_FLAGS, *_GLOB_FLAGS) if getattr(args, flag.dest, None) not in (None, False)]
    if given:
        raise SettingsError(f"{', '.join(given)}: for batches; give a folder or several photos, and -o a folder")


def run_batch(
    args: argparse.Namespace, settings: Settings, external: list[DetectedFace] | None, style: Comparison
) -> int:
    if getattr(args, "save_faces", None) is not None:  # its files are per photo and face: one photo at a time
        raise SettingsError("--save-faces: for one photo at a time, not for batches")
    batch = batch_settings_from_args(args)
    plan = _plan(args, batch)
    spec = WorkerSpec(
        settings,
        allow_download=not args.no_download,
        report_identity=args.identity,
        references_folder=args.references,
        external_faces=tuple(external) if external is not None else None,
        comparison_style=style,
        **({"pair_threshold": args.pair_threshold} if args.pair_threshold is not None else {}),
    )
    job = Batch(plan, spec, comparisons=args.comparison, redo=batch.redo, overwrite=args.overwrite, report=args.json)
    executor: Executor
    if batch.ray is not None:
        from ..batch.ray_pool import RayExecutor

        executor = RayExecutor(spec, batch)
    else:
        executor = LocalExecutor(spec, drive_steps=_drive_with_bar)
    try:
        printer = _Printer(plan)
        summary = job.run(executor, on_record=printer.file, on_start=printer.start)
    except KeyboardInterrupt:
        print("interrupted: run the same command again to go on from here", file=sys.stderr)
        return 130
    _print_summary(summary, batch)
    return 1 if summary.failed else 0


def _plan(args: argparse.Namespace, batch: BatchSettings) -> Plan:
    folders = [p for p in args.images if p.is_dir()]
    if not folders:
        if batch.recursive or batch.include or batch.exclude:
            raise SettingsError("--recursive, --include and --exclude choose files in a folder: give one folder")
        return plan_files(args.images, args.output)
    if len(args.images) > 1:
        raise SettingsError(f"{folders[0]}: is a folder; restore one folder at a time, or a list of photos")
    avoid = [p for p in (args.output, args.comparison) if p is not None]
    return plan_folder(folders[0], args.output, batch, avoid=avoid)


def _drive_with_bar(job: FileJob, steps: Steps[Result]) -> Result:
    with ProgressPrinter(job.source.name) as printer:
        return printer.drive(steps)


class _Printer:
    """One line per file as it finishes, numbered, with its notes."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.sources = {item.key: item.source for item in plan.items}
        self.noted: set[str] = set()

    def start(self, todo: int, done: int) -> None:
        if done:
            print(f"{done} of {done + todo} photos already done (--redo does them again)", file=sys.stderr)

    def file(self, record: FileRecord, finished: int, todo: int) -> None:
        prefix = f"[{finished}/{todo}]"
        if record.status == "failed":
            print(f"{prefix} error: {record.error}", file=sys.stderr)
            return
        output = self.plan.output / record.output.path if record.output else "?"
        print(
            f"{prefix} {record.input} -> {output} ({record.restored} of {record.faces} faces restored)", file=sys.stderr
        )
        # a note shared by many files (an unverified model) is printed once; the manifest has them all
        print_notes(self.sources[record.input], [n for n in record.notes if n not in self.noted])
        self.noted.update(record.notes)


def _print_summary(summary: BatchSummary, batch: BatchSettings) -> None:
    for line in summary.lines():
        print(line, file=sys.stderr)
    folder = summary.plan.input
    if (
        not summary.plan.items
        and not batch.recursive
        and folder is not None
        and any(p.is_dir() for p in folder.iterdir())
    ):
        print("note: the photos in sub-folders are restored with --recursive", file=sys.stderr)
