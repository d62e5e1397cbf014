"""``python -m app [IMAGE...]``: start the desktop application."""

from .main import main

raise SystemExit(main())
