"""Which settings a launch brings back from the last session: the ones not at their defaults.

The window keeps the last settings across launches (a user's grain or sensitivity stays), and
says which they are, so nothing surprising hides in the controls."""

from __future__ import annotations

import dataclasses

from restore_core.params import Settings

#: the sections the settings panel shows (faces and per-face settings belong to a photo)
SECTIONS = ("detection", "face", "grain", "output")


def remembered(settings: Settings) -> tuple[str, ...]:
    """``section.field`` of every setting in ``settings`` that is not at its default."""
    defaults = Settings()
    changed = []
    for section in SECTIONS:
        ours, default = getattr(settings, section), getattr(defaults, section)
        for spec in dataclasses.fields(ours):
            if getattr(ours, spec.name) != getattr(default, spec.name):
                changed.append(f"{section}.{spec.name}")
    return tuple(changed)


def remembered_text(names: tuple[str, ...]) -> str:
    """For people: "Kept from your last session: sensitivity, film grain." ("" when none)."""
    if not names:
        return ""
    words = [_WORDS.get(name, name.split(".")[1].replace("_", " ")) for name in names]
    return f"Kept from your last session: {', '.join(dict.fromkeys(words))}."


_WORDS = {
    "grain.enabled": "film grain",
    "grain.model": "grain kind",
    "grain.density": "grain density",
    "grain.size": "grain size",
    "grain.strength": "grain strength",
    "grain.seed": "grain seed",
    "grain.scope": "where the grain goes",
    "face.model": "face model",
    "face.strength": "strength",
    "output.jpeg_quality": "quality",
    "detection.min_face": "smallest face",
    "detection.only_center_face": "only the central face",
}
