"""``facemend-cli`` / ``python -m restore_core``: detect, restore and manage models headless.

Each sub-command lives in its own module with ``add_parser(subparsers)``; the parser it
adds sets ``run`` to a function of the parsed arguments returning the exit code.
Expected failures (``FacemendError``) print one line and exit 1; no traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import FacemendError


def build_parser() -> argparse.ArgumentParser:
    from . import detect_cmd, models_cmd, restore_cmd

    parser = argparse.ArgumentParser(
        prog="facemend-cli", description="Restore faces in photographs (GFPGAN, CodeFormer), without a window."
    )
    parser.add_argument("--version", action="version", version=f"facemend {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (detect_cmd, restore_cmd, models_cmd):
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return int(args.run(args))
    except FacemendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
