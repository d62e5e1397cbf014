"""The script PyInstaller freezes: runs app.main:main, the function behind `python -m app`."""

import os
import sys

# A windowed Windows build has no console, so sys.stdout and sys.stderr are None there, and a
# library that prints progress (tqdm, torch.hub) would fail on its first write.
if sys.stdout is None or sys.stderr is None:
    _devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (open for the life of the process)
    sys.stdout = sys.stdout or _devnull
    sys.stderr = sys.stderr or _devnull

from app.main import main

sys.exit(main())
