"""``facemend-server`` / ``python -m restore_core.server``: serve both APIs with uvicorn.

Refuses with one line, before opening a socket, to listen beyond this machine without an API
key (``--api-key`` or ``FACEMEND_API_KEY``), and on any other bad setting.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..cli.options import add_limit_flags
from ..errors import FacemendError
from ..params import LimitSettings, field_info
from .config import (
    API_KEY_ENV,
    DEFAULT_HOST,
    DEFAULT_KEEP_RESULTS_S,
    DEFAULT_MAX_QUEUE,
    DEFAULT_MAX_UPLOAD_MB,
    DEFAULT_PORT,
    ServerConfig,
    default_data_dir,
)

#: open event streams get this long to end on a stop; then they are closed and the worker stops
GRACEFUL_SHUTDOWN_S = 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facemend-server",
        description="Facemend as a local HTTP service: the enhance-faces API and a Topaz-compatible restore API.",
    )
    parser.add_argument("--version", action="version", version=f"facemend {__version__}")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV),
        help=f"require this key as X-API-Key on every request (default ${API_KEY_ENV}); needed beyond loopback",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help=f"job table and job folders (default {default_data_dir()}, or $FACEMEND_SERVER_DATA)",
    )
    parser.add_argument(
        "--keep-results",
        type=float,
        default=DEFAULT_KEEP_RESULTS_S / 3600,
        metavar="HOURS",
        help="delete results this long after their job finished (default 24)",
    )
    parser.add_argument(
        "--max-queue",
        type=int,
        default=DEFAULT_MAX_QUEUE,
        help=f"jobs waiting at most; more get 429 (default {DEFAULT_MAX_QUEUE})",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=DEFAULT_MAX_UPLOAD_MB,
        metavar="MB",
        help=f"largest request body (default {DEFAULT_MAX_UPLOAD_MB})",
    )
    parser.add_argument("--device", choices=field_info(None, "device").choices, default="auto", help="where models run")
    parser.add_argument("--no-download", action="store_true", help="never download models (jobs needing one fail)")
    parser.add_argument(
        "--allow-remote-references",
        action="store_true",
        help="fetch reference_uri from public http(s) addresses (never private or local ones)",
    )
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    add_limit_flags(parser)
    return parser


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    limits = {
        key: value
        for key, value in (("max_megapixels", args.max_megapixels), ("max_pixels_per_byte", args.max_pixels_per_byte))
        if value is not None
    }
    return ServerConfig(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        data_dir=args.data_dir.expanduser().absolute() if args.data_dir else default_data_dir(),
        keep_results_s=args.keep_results * 3600,
        max_queue=args.max_queue,
        max_upload_bytes=int(args.max_upload_mb * 1_000_000),
        limits=LimitSettings(**limits),
        device=args.device,
        allow_download=not args.no_download,
        allow_remote_references=args.allow_remote_references,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except FacemendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    from .app import create_app

    print(f"Facemend server on http://{args.host}:{args.port} (API docs at /docs)", file=sys.stderr)
    uvicorn.run(
        create_app(config),
        host=config.host,
        port=config.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    return 0
