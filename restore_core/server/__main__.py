"""``python -m restore_core.server``: the HTTP service."""

from .cli import main

raise SystemExit(main())
