"""Settings: validation messages, per-face overrides, JSON round trips, output sizes."""

from __future__ import annotations

import dataclasses
import json

import pytest

from restore_core.errors import SettingsError
from restore_core.params import (
    DetectionSettings,
    FaceOverride,
    FaceSettings,
    GrainSettings,
    OutputSettings,
    Settings,
)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: FaceSettings(strength=1.5), "strength must be between 0.0 and 1.0, got 1.5"),
        (lambda: FaceSettings(creativity=-0.1), "creativity must be between 0.0 and 1.0"),
        (lambda: FaceSettings(strength="high"), "strength must be a number"),
        (lambda: FaceSettings(strength=True), "strength must be a number"),
        (lambda: GrainSettings(model="sepia"), "model must be one of silver, gaussian, grey"),
        (lambda: GrainSettings(size=6), "size must be between 1.0 and 5.0"),
        (lambda: DetectionSettings(detector="yolo"), "detector must be one of"),
        (lambda: OutputSettings(scale=9), "scale must be between 1.0 and 8.0"),
        (lambda: FaceOverride(strength=2), "strength must be between"),
        (lambda: Settings(faces=(0, -1)), "faces must be face indices"),
        (lambda: Settings(device="tpu"), "device must be one of auto, cpu, cuda, mps"),
    ],
)
def test_invalid_values_are_refused_with_a_clear_message(factory, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        factory()


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().face.strength = 0.5  # type: ignore[misc]


def test_overrides_apply_to_their_face_only() -> None:
    settings = Settings(face=FaceSettings(strength=0.8)).with_override(1, creativity=0.9, model="codeformer")
    settings = settings.with_override(1, strength=0.2)
    assert settings.for_face(0) == FaceSettings(strength=0.8)
    assert settings.for_face(1) == FaceSettings(strength=0.2, creativity=0.9, model="codeformer")


def test_json_round_trip_keeps_everything() -> None:
    settings = Settings(
        detection=DetectionSettings(detector="retinaface_mobile0.25", sensitivity=0.7, min_face=20),
        face=FaceSettings(model="gfpgan", strength=0.6, precondition=True),
        grain=GrainSettings(enabled=True, model="grey", seed=42, scope="image"),
        output=OutputSettings(scale=2),
        faces=(0, 2),
    ).with_override(2, reference="/photos/grandma.jpg")
    text = json.dumps(settings.to_json())
    assert Settings.from_json(json.loads(text)) == settings


def test_unknown_keys_in_json_are_named() -> None:
    with pytest.raises(SettingsError, match="unknown setting.*strenght"):
        Settings.from_json({"face": {"strenght": 0.5}})


def test_settings_file_errors_name_the_file(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SettingsError, match="bad.json"):
        Settings.load(bad)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (OutputSettings(), (600, 400)),
        (OutputSettings(scale=2), (1200, 800)),
        (OutputSettings(width=900), (900, 600)),
        (OutputSettings(height=100), (150, 100)),
    ],
)
def test_output_size_keeps_aspect(output: OutputSettings, expected: tuple[int, int]) -> None:
    assert output.output_size(600, 400) == expected


def test_sensitivity_maps_monotonically_to_the_threshold() -> None:
    thresholds = [DetectionSettings(sensitivity=s / 10).score_threshold for s in range(11)]
    assert thresholds == sorted(thresholds, reverse=True)
    assert DetectionSettings().score_threshold == pytest.approx(0.8)
