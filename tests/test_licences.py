"""CodeFormer's non-commercial licence: accepted once, remembered, checked at first use."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from restore_core.cli import main
from restore_core.engine import RenderEngine
from restore_core.errors import ModelError
from restore_core.models import (
    MODELS,
    accept_licence,
    licence_accepted,
    licence_for_architecture,
    needs_licence,
)
from restore_core.models.licences import LICENCES_FILE
from restore_core.restore import load_restorer

MOBILE = ["--detector", "retinaface_mobile0.25"]


@pytest.fixture()
def unaccepted_models_dir(models_dir: Path, random_gfpgan: Path, random_codeformer: Path) -> Path:
    """Both face models copied in by hand; CodeFormer's licence never accepted."""
    (models_dir / "GFPGANv1.4.pth").symlink_to(random_gfpgan)
    (models_dir / "codeformer.pth").symlink_to(random_codeformer)
    return models_dir


def test_the_answer_is_recorded_once_for_every_front_door(models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert needs_licence() == ("codeformer",)
    assert licence_for_architecture("CodeFormer") is MODELS["codeformer"]
    assert licence_for_architecture("GFPGAN") is None
    assert licence_accepted("gfpgan")  # nothing to accept
    assert not licence_accepted("codeformer")
    accept_licence("codeformer")
    assert licence_accepted("codeformer")
    record = json.loads((models_dir / LICENCES_FILE).read_text())
    assert record["codeformer"]["licence"] == "S-Lab License 1.0" and record["codeformer"]["accepted"]
    # A changed licence is asked again; an unreadable record is never taken for a yes.
    changed = dataclasses.replace(MODELS["codeformer"], licence="S-Lab License 2.0")
    monkeypatch.setitem(MODELS, "codeformer", changed)
    assert not licence_accepted("codeformer")
    monkeypatch.undo()
    (models_dir / LICENCES_FILE).write_text("{not json")
    assert not licence_accepted("codeformer")


def test_codeformer_is_refused_until_accepted_by_name_or_by_path(unaccepted_models_dir: Path, tmp_path: Path) -> None:
    cpu = torch.device("cpu")
    own = tmp_path / "renamed.pth"
    own.symlink_to(unaccepted_models_dir / "codeformer.pth")
    for name in ("codeformer", str(own)):
        with pytest.raises(ModelError, match="--accept-licence codeformer"):
            load_restorer(name, cpu, allow_download=False)
    assert load_restorer("gfpgan", cpu, allow_download=False).architecture.id == "GFPGAN"
    accept_licence("codeformer")
    assert load_restorer(str(own), cpu, allow_download=False).architecture.id == "CodeFormer"


def test_auto_never_picks_codeformer_before_acceptance(unaccepted_models_dir: Path) -> None:
    engine = RenderEngine(device="cpu")
    assert engine.installed_face_models() == {"gfpgan"}
    accept_licence("codeformer")
    assert engine.installed_face_models() == {"gfpgan", "codeformer"}


def test_the_cli_needs_accept_licence_once(
    unaccepted_models_dir: Path, photos_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = photos_dir / "collage_two_faces.jpg"
    base = ["restore", str(source), "--model", "codeformer", "--faces", "1", "--no-download", *MOBILE]
    assert main([*base, "-o", str(tmp_path / "refused.png")]) == 1
    assert "--accept-licence codeformer" in capsys.readouterr().err
    assert not (tmp_path / "refused.png").exists()
    assert main([*base, "--accept-licence", "codeformer", "-o", str(tmp_path / "first.png")]) == 0
    assert "S-Lab License 1.0" in capsys.readouterr().err
    assert main([*base, "-o", str(tmp_path / "again.png")]) == 0  # remembered
    first, again = (np.fromfile(tmp_path / name, np.uint8) for name in ("first.png", "again.png"))
    assert first.size and np.array_equal(first, again)
    with pytest.raises(SystemExit):
        main([*base, "--accept-licence", "gfpgan", "-o", str(tmp_path / "x.png")])
