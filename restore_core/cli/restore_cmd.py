"""``restore IMAGE... -o OUT``: restore faces in one photo or a batch; never touches originals."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ..detect import faces_from_json
from ..errors import FacemendError, ModelError, SettingsError
from ..io import OUTPUT_EXTENSIONS, check_output_path, make_folder
from ..models import accept_licence, needs_licence, spec
from ..pipeline import Comparison, Pipeline, write_json
from .options import add_detection_flags, add_restore_flags, settings_from_args
from .progress import ProgressPrinter, print_notes

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("restore", help="restore faces and write the result")
    parser.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="photos (files)")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="OUT",
        help="output file (format by extension) or folder (one output per input, same name)",
    )
    parser.add_argument("--faces", metavar="I,J", help="restore only these face indices (as listed by detect)")
    parser.add_argument("--faces-json", type=Path, metavar="FILE", help="use these boxes instead of detecting")
    parser.add_argument("--json", type=Path, metavar="REPORT.json", help="write a report: faces, models, timings")
    parser.add_argument(
        "--comparison",
        type=Path,
        metavar="OUT",
        help="also write a before | after image: a file, or a folder (NAME_comparison.jpg per input)",
    )
    parser.add_argument(
        "--comparison-split",
        type=float,
        metavar="F",
        help="compare as one image split at F of the width (0..1) instead of side by side",
    )
    parser.add_argument(
        "--save-faces",
        type=Path,
        metavar="DIR",
        help="also write each restored face's aligned input, model output, blend mask and a before | after "
        "(NAME_faceNN_input/restored/mask/compare.png)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument("--no-download", action="store_true", help="never download models")
    parser.add_argument(
        "--accept-licence",
        action="append",
        choices=needs_licence(),
        metavar="MODEL",
        help=f"accept the licence of a model that needs it ({', '.join(needs_licence())}: non-commercial use "
        "only); asked once, remembered for the CLI and the app",
    )
    add_detection_flags(parser)
    add_restore_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    for name in args.accept_licence or ():
        model = spec(name)
        accept_licence(name)
        print(f"accepted the {model.licence} of {model.title}: {model.licence_notice}", file=sys.stderr)
    external = faces_from_json(args.faces_json) if args.faces_json else None
    single = len(args.images) == 1
    if args.json is not None:  # before any work: never an input, never an existing file unasked
        check_output_path(args.images, args.json, overwrite=args.overwrite)
    folder = args.output.is_dir() or not single or not args.output.suffix
    if folder:
        make_folder(args.output)
    elif args.output.suffix.lower() not in OUTPUT_EXTENSIONS:
        raise SettingsError(
            f"{args.output}: cannot write {args.output.suffix or 'files without an extension'}; "
            f"use one of {', '.join(sorted(OUTPUT_EXTENSIONS))}"
        )
    if (args.identity or args.references or settings.face.identity_lock) and args.no_download:
        from ..reference import identity_available, identity_unavailable_message

        if not identity_available():
            raise ModelError(identity_unavailable_message())
    pipeline = Pipeline(
        settings,
        allow_download=not args.no_download,
        report_identity=args.identity,
        references_folder=args.references,
        **({"pair_threshold": args.pair_threshold} if args.pair_threshold is not None else {}),
    )
    style = _comparison_style(args.comparison_split)
    comparison_folder = args.comparison is not None and (
        args.comparison.is_dir() or not single or not args.comparison.suffix
    )
    if comparison_folder:
        make_folder(args.comparison)
    if args.save_faces is not None:
        make_folder(args.save_faces)
    reports, failures = [], []
    for source in args.images:
        comparison = args.comparison / f"{source.stem}_comparison.jpg" if comparison_folder else args.comparison
        try:
            with ProgressPrinter(source.name) as printer:
                steps = pipeline.run(
                    source,
                    args.output,
                    overwrite=args.overwrite,
                    external_faces=external,
                    comparison=comparison,
                    comparison_style=style,
                    report=args.json if single else None,  # lands with the image, or neither does
                    save_faces=args.save_faces,
                )
                result = printer.drive(steps)
        except FacemendError as exc:
            failures.append({"input": str(source), "error": str(exc)})
            print(f"error: {exc}", file=sys.stderr)
            continue
        except Exception as exc:  # a batch goes on; the traceback is logged with --verbose
            log.info("unexpected failure on %s", source, exc_info=True)
            failures.append({"input": str(source), "error": f"{type(exc).__name__}: {exc}"})
            print(f"error: {source}: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        restored = sum(f.selected for f in result.faces)
        print(f"{source} -> {result.output} ({restored} of {len(result.faces)} faces restored)", file=sys.stderr)
        print_notes(source, result.notes)
        reports.append({**result.to_json(), "settings": settings.to_json()})
    if args.json and not single:
        write_json(args.json, {"files": reports, "failures": failures}, overwrite=args.overwrite)
    if not single:
        print(f"{len(reports)} restored, {len(failures)} failed", file=sys.stderr)
    return 1 if failures else 0


def _comparison_style(split: float | None) -> Comparison:
    if split is None:
        return Comparison()
    if not 0.0 <= split <= 1.0:
        raise SettingsError(f"--comparison-split must be between 0 and 1, got {split}")
    return Comparison(mode="split", split=split)
