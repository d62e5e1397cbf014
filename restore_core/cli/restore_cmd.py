"""``restore IMAGE... -o OUT``: restore faces in one photo or a batch; never touches originals."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ..detect import faces_from_json
from ..errors import FacemendError, ModelError, SettingsError
from ..faces import DetectedFace
from ..io import OUTPUT_EXTENSIONS, check_output_path, make_folder
from ..models import accept_licence, needs_licence, spec
from ..params import Settings
from ..pipeline import Comparison, Pipeline, comparison_name
from .batch_cmd import add_batch_flags, refuse_batch_flags, run_batch
from .options import add_detection_flags, add_restore_flags, settings_from_args
from .progress import ProgressPrinter, print_notes

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("restore", help="restore faces and write the result")
    parser.add_argument(
        "images", type=Path, nargs="+", metavar="IMAGE", help="photos, or one folder of photos (see batches)"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="OUT",
        help="output file (format by extension) or folder (one output per input, same name; a folder's tree mirrored)",
    )
    parser.add_argument("--faces", metavar="I,J", help="restore only these face indices (as listed by detect)")
    parser.add_argument("--faces-json", type=Path, metavar="FILE", help="use these boxes instead of detecting")
    parser.add_argument(
        "--json", type=Path, metavar="REPORT.json", help="write a report: faces, models, timings (a batch: every file)"
    )
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
    add_batch_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    for name in args.accept_licence or ():
        model = spec(name)
        accept_licence(name)
        print(f"accepted the {model.licence} of {model.title}: {model.licence_notice}", file=sys.stderr)
    external = faces_from_json(args.faces_json) if args.faces_json else None
    style = _comparison_style(args.comparison_split)
    if (args.identity or args.references or settings.face.identity_lock) and args.no_download:
        from ..reference import identity_available, identity_unavailable_message

        if not identity_available():
            raise ModelError(identity_unavailable_message())
    if len(args.images) > 1 or args.images[0].is_dir():
        return run_batch(args, settings, external, style)
    refuse_batch_flags(args)
    return _run_one(args, settings, external, style)


def _run_one(
    args: argparse.Namespace, settings: Settings, external: list[DetectedFace] | None, style: Comparison
) -> int:
    """One photo: into a file (format by extension) or into a folder, with its own report."""
    (source,) = args.images
    if args.json is not None:  # before any work: never an input, never an existing file unasked
        check_output_path(source, args.json, overwrite=args.overwrite)
    if args.output.is_dir() or not args.output.suffix:
        make_folder(args.output)
    elif args.output.suffix.lower() not in OUTPUT_EXTENSIONS:
        raise SettingsError(
            f"{args.output}: cannot write {args.output.suffix or 'files without an extension'}; "
            f"use one of {', '.join(sorted(OUTPUT_EXTENSIONS))}"
        )
    pipeline = Pipeline(
        settings,
        allow_download=not args.no_download,
        report_identity=args.identity,
        references_folder=args.references,
        **({"pair_threshold": args.pair_threshold} if args.pair_threshold is not None else {}),
    )
    comparison = args.comparison
    if comparison is not None and (comparison.is_dir() or not comparison.suffix):
        comparison = make_folder(comparison) / comparison_name(source)
    if args.save_faces is not None:
        make_folder(args.save_faces)
    try:
        with ProgressPrinter(source.name) as printer:
            steps = pipeline.run(
                source,
                args.output,
                overwrite=args.overwrite,
                external_faces=external,
                comparison=comparison,
                comparison_style=style,
                report=args.json,  # lands with the image, or neither does
                save_faces=args.save_faces,
            )
            result = printer.drive(steps)
    except FacemendError:
        raise
    except Exception as exc:  # one line for the user; the traceback is logged with --verbose
        log.info("unexpected failure on %s", source, exc_info=True)
        print(f"error: {source}: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    restored = sum(f.selected for f in result.faces)
    print(f"{source} -> {result.output} ({restored} of {len(result.faces)} faces restored)", file=sys.stderr)
    print_notes(source, result.notes)
    return 0


def _comparison_style(split: float | None) -> Comparison:
    if split is None:
        return Comparison()
    if not 0.0 <= split <= 1.0:
        raise SettingsError(f"--comparison-split must be between 0 and 1, got {split}")
    return Comparison(mode="split", split=split)
