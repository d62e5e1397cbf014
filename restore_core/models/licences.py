"""Licences a model needs accepted before it is used (CodeFormer's non-commercial S-Lab licence).

The answer is asked once and remembered in the models folder, where the CLI, the app and the
service all find it: accepting in one is accepting for all. A model is used only once its
licence has been accepted, whether the file was downloaded, imported or copied in by hand, or
is a file of that architecture anywhere on disk; ``auto`` never picks it before.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from datetime import datetime, timezone

from ..errors import ModelError
from .registry import MODELS, ModelSpec, spec
from .store import models_dir

LICENCES_FILE = ".facemend-licences.json"
_lock = threading.Lock()


def _read() -> dict[str, object]:
    try:
        data = json.loads((models_dir() / LICENCES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none accepted yet, or an unreadable record: asked again, never assumed
    return data if isinstance(data, dict) else {}


def licence_accepted(name: str) -> bool:
    """Whether registry model ``name`` may be used: it needs no acceptance, or its licence (as
    the registry names it now) was accepted."""
    model = spec(name)
    if not model.licence_notice:
        return True
    entry = _read().get(model.name)
    return isinstance(entry, dict) and entry.get("licence") == model.licence


def accept_licence(name: str) -> None:
    """Record that the user accepted registry model ``name``'s licence (after seeing its notice)."""
    model = spec(name)
    folder = models_dir()
    with _lock:
        record = _read()
        record[model.name] = {"licence": model.licence, "accepted": datetime.now(timezone.utc).isoformat()}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(dir=folder, prefix=".licences-", suffix=".part")
            with os.fdopen(fd, "w", encoding="utf-8") as tmp:
                json.dump(record, tmp, indent=1, sort_keys=True)
            os.replace(temp_name, folder / LICENCES_FILE)
        except OSError as exc:
            raise ModelError(f"cannot record the acceptance of {model.title}'s licence in {folder}: {exc}") from exc


def needs_licence() -> tuple[str, ...]:
    """Registry models that are used only after their licence is accepted."""
    return tuple(name for name, model in MODELS.items() if model.licence_notice)


def licence_for_architecture(architecture: str) -> ModelSpec | None:
    """The registry model whose licence covers every file of this spandrel ``architecture``
    (a CodeFormer file by path is still CodeFormer), if it has one to accept."""
    return next((m for m in MODELS.values() if m.architecture == architecture and m.licence_notice), None)


def licence_required_message(model: ModelSpec) -> str:
    return (
        f"{model.title} is used only once its licence is accepted: {model.licence_notice} "
        f"Accept it once: in the app when you choose it, or facemend-cli restore ... --accept-licence {model.name}"
    )


def require_licence(model: ModelSpec) -> None:
    """Raise ``ModelError`` with ``licence_required_message`` unless ``model``'s licence was accepted."""
    if not licence_accepted(model.name):
        raise ModelError(licence_required_message(model))
