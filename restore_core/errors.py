"""Errors the core raises on purpose: each carries one message a person can act on.

The CLI prints ``str(error)`` on one line and exits non-zero; the app shows it in a dialog.
Anything else escaping the core is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class FacemendError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class SettingsError(FacemendError, ValueError):
    """A parameter is out of range, of the wrong type, or unknown."""


class InputError(FacemendError):
    """An input file cannot be used: names the file and the reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class OutputError(FacemendError):
    """An output cannot be written (exists, unsupported format, too large, disk full)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class OutputExistsError(OutputError):
    """The output's name is taken and replacing it was not allowed: a batch can skip the file."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "already exists; choose another name or allow overwriting (--overwrite)")


class ModelError(FacemendError):
    """A model is missing, cannot be downloaded, fails its check, or cannot be loaded."""


class UnknownModelError(ModelError):
    """A file to import is no model's by its name or by its hash: which model it is must be said."""


class ModelInPlaceError(ModelError):
    """Importing would replace a different file already installed (allowed only when asked)."""

    def __init__(self, message: str, target: Path, title: str) -> None:
        self.target = target  # the installed file
        self.title = title  # the model it holds
        super().__init__(message)


class CancelledError(FacemendError):
    """Work was cancelled by the user; nothing was written."""

    def __init__(self) -> None:
        super().__init__("cancelled")
