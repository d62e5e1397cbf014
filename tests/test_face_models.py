"""Every face model of the registry: published files, ``auto``'s choice among the installed ones,
and any spandrel face model file by path."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from restore_core.engine import RenderEngine
from restore_core.models import MODELS, face_models, spec
from restore_core.params import NAMED_MODELS, DetectionSettings, FaceSettings, Settings
from restore_core.restore import choose_model, load_restorer, weights_for

MOBILE = DetectionSettings(detector="retinaface_mobile0.25")


def test_the_registry_holds_every_face_model_with_its_published_file() -> None:
    assert face_models() == ("gfpgan", "codeformer", "gfpgan_v1.3", "restoreformer")
    assert ("auto", *face_models(), "passthrough") == NAMED_MODELS
    expected = {
        "gfpgan_v1.3": "https://github.com/TencentARC/GFPGAN/releases/download/v1.3.0/GFPGANv1.3.pth",
        "restoreformer": "https://github.com/TencentARC/GFPGAN/releases/download/v1.3.4/RestoreFormer.pth",
    }
    for name, url in expected.items():
        model = spec(name)
        assert model.url == url and model.kind == "face" and model.licence == "Apache-2.0"
        assert re.fullmatch(r"[0-9a-f]{64}", model.sha256) and model.size and model.size > 100e6
    assert {m.prior for m in MODELS.values() if m.kind == "face"} == {"detail", "codebook"}
    assert len({m.filename for m in MODELS.values()}) == len(MODELS)


@pytest.fixture(scope="module")
def faces() -> dict[str, np.ndarray]:
    # Fine texture everywhere stands for a sharp face (the demo faces themselves are degraded).
    sharp = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    return {"sharp": sharp, "blurred": np.full_like(sharp, 128)}


def test_auto_chooses_among_the_installed_models_by_their_prior(faces: dict[str, np.ndarray]) -> None:
    sharp, blurred = faces["sharp"], faces["blurred"]
    others = {"gfpgan_v1.3", "restoreformer"}
    assert choose_model(300, sharp, others) == "gfpgan_v1.3"
    assert choose_model(40, sharp, others) == "restoreformer"
    assert choose_model(300, blurred, others) == "restoreformer"
    assert choose_model(300, sharp, {"restoreformer"}) == "restoreformer"  # the only one there
    assert choose_model(40, sharp, {*others, "codeformer", "gfpgan"}) == "codeformer"  # registry order
    assert choose_model(300, sharp, {*others, "codeformer", "gfpgan"}) == "gfpgan"


def test_new_registry_models_load_through_spandrel(
    models_dir: Path, random_gfpgan: Path, random_restoreformer: Path
) -> None:
    (models_dir / "GFPGANv1.3.pth").symlink_to(random_gfpgan)
    (models_dir / "RestoreFormer.pth").symlink_to(random_restoreformer)
    for name, architecture in (("gfpgan_v1.3", "GFPGAN"), ("restoreformer", "RestoreFormer")):
        assert weights_for(name, allow_download=False) == models_dir / spec(name).filename
        restorer = load_restorer(name, torch.device("cpu"), allow_download=False)
        assert restorer.descriptor.architecture.id == architecture and restorer.name == name
    engine = RenderEngine(device="cpu")
    assert {"gfpgan_v1.3", "restoreformer"} <= engine.installed_face_models()


def test_a_spandrel_face_model_file_by_path_restores(
    models_dir: Path, random_restoreformer: Path, photos_dir: Path, tmp_path: Path
) -> None:
    """A face model file anywhere (here RestoreFormer under a name of the user's) works by path."""
    own = tmp_path / "my face model.pth"
    own.symlink_to(random_restoreformer)
    engine = RenderEngine(device="cpu")
    engine.open(photos_dir / "collage_two_faces.jpg")
    engine.detect(MOBILE)
    settings = Settings(detection=MOBILE, face=FaceSettings(model=str(own), mask="box"), faces=(1,))
    result = engine.render(settings)
    assert result.faces[1].model == str(own)
    images = engine.face_images(1, settings)
    assert images.model_rgb8.shape == (512, 512, 3)
    assert not np.array_equal(images.model_rgb8, images.aligned_rgb8)
    assert not np.array_equal(result.rgb8, engine.original_rgb8())
