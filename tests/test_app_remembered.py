"""Which settings a launch brings back, said in words (no Qt)."""

from __future__ import annotations

import dataclasses

from app.components.remembered import remembered, remembered_text
from restore_core.params import DetectionSettings, GrainSettings, Settings


def test_defaults_bring_nothing_back() -> None:
    assert remembered(Settings()) == () and remembered_text(()) == ""
    assert remembered(Settings(faces=(0, 2))) == ()  # a photo's face choice is not a setting kept


def test_settings_off_their_defaults_are_named() -> None:
    settings = Settings(detection=DetectionSettings(sensitivity=0.7), grain=GrainSettings(enabled=True, density=0.9))
    settings = dataclasses.replace(settings, output=dataclasses.replace(settings.output, scale=2.0))
    names = remembered(settings)
    assert names == ("detection.sensitivity", "grain.enabled", "grain.density", "output.scale")
    assert remembered_text(names) == "Kept from your last session: sensitivity, film grain, grain density, scale."
