"""``detect IMAGE --json OUT.json``: find faces, report boxes, scores and landmarks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..engine import RenderEngine
from ..io import check_output_path
from ..pipeline import Pipeline, write_json
from .options import add_detection_flags, settings_from_args
from .progress import ProgressPrinter, print_notes


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("detect", help="find faces and write their boxes as JSON")
    parser.add_argument("image", type=Path, help="a photo")
    parser.add_argument("--json", type=Path, metavar="OUT.json", help="where to write the faces (default: print)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    parser.add_argument("--no-download", action="store_true", help="never download models")
    add_detection_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.json is not None:  # before any work: never the photo, never an existing file unasked
        check_output_path(args.image, args.json, overwrite=args.overwrite)
    engine = RenderEngine(device=settings.device, allow_download=not args.no_download)
    pipeline = Pipeline(settings, engine=engine)
    with ProgressPrinter(args.image.name) as printer:
        faces = printer.drive(pipeline.faces_steps(args.image))
    report = {
        "input": str(args.image),
        "size": [engine.image.width, engine.image.height],
        "detector": engine.detector_name,
        "faces": [{"index": i, **face.to_json()} for i, face in enumerate(faces)],
        "timings": {k: round(v, 4) for k, v in engine.timings.items()},
        "notes": list(engine.notes),
    }
    print_notes(args.image, engine.notes)
    if args.json:
        write_json(args.json, report, overwrite=args.overwrite)
        print(f"{args.image}: {len(faces)} faces -> {args.json}", file=sys.stderr)
    else:
        print(json.dumps(report, indent=2))
    return 0
