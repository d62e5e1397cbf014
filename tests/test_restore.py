"""Face models through the real loading code: determinism, creativity, the CodeFormer split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from restore_core.errors import ModelError
from restore_core.params import FaceSettings
from restore_core.restore import (
    Passthrough,
    Preconditioning,
    SpandrelFaceRestorer,
    SplitFaceRestorer,
    choose_model,
    load_restorer,
    preconditioning_for,
)

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def aligned_faces(aligned_dir: Path) -> np.ndarray:
    """Two real aligned faces, N x 512 x 512 x 3 float32 in 0..1."""
    names = ["0143.png", "Einstein01_gray.png"]
    return np.stack([np.asarray(Image.open(aligned_dir / n).convert("RGB"), dtype=np.float32) / 255 for n in names])


@pytest.fixture()
def codeformer(face_models_dir: Path) -> SplitFaceRestorer:
    restorer = load_restorer("codeformer", CPU, allow_download=False)
    assert isinstance(restorer, SplitFaceRestorer)
    return restorer


@pytest.fixture()
def gfpgan(face_models_dir: Path) -> SpandrelFaceRestorer:
    restorer = load_restorer("gfpgan", CPU, allow_download=False)
    assert type(restorer) is SpandrelFaceRestorer and restorer.architecture.id == "GFPGAN"
    return restorer


def test_codeformer_decoder_only_path_equals_a_full_run(
    codeformer: SplitFaceRestorer, aligned_faces: np.ndarray
) -> None:
    faces = aligned_faces[:1]
    features = codeformer.encode(faces)
    for creativity in (0.3, 1.0):
        cached = codeformer.decode(features, creativity)
        with torch.inference_mode():
            full = codeformer._to_numpy(codeformer.model(codeformer._to_tensor(faces), weight=1 - creativity)[0])
        np.testing.assert_array_equal(cached, full)


def test_codeformer_creativity_changes_the_face(codeformer: SplitFaceRestorer, aligned_faces: np.ndarray) -> None:
    features = codeformer.encode(aligned_faces[:1])
    realistic, creative = codeformer.decode(features, 0.0), codeformer.decode(features, 1.0)
    assert realistic.shape == (1, 512, 512, 3) and realistic.dtype == np.float32
    assert np.abs(realistic - creative).mean() > 0.01


def test_gfpgan_is_deterministic_and_batch_independent(gfpgan: SpandrelFaceRestorer, aligned_faces: np.ndarray) -> None:
    both = gfpgan.restore(aligned_faces, 0.0)
    alone = gfpgan.restore(aligned_faces[1:], 0.0)
    np.testing.assert_allclose(both[1], alone[0], atol=1e-5)
    np.testing.assert_array_equal(gfpgan.restore(aligned_faces[1:], 0.0), alone)
    assert both.min() >= 0.0 and both.max() <= 1.0


def test_a_restorer_takes_back_a_shared_model_another_has_cast(
    gfpgan: SpandrelFaceRestorer, aligned_faces: np.ndarray
) -> None:
    before = gfpgan.restore(aligned_faces[:1], 0.0)
    gfpgan.model.to(torch.float64)  # as another restorer sharing the loader's model might
    np.testing.assert_array_equal(gfpgan.restore(aligned_faces[:1], 0.0), before)


def test_a_reduced_precision_restorer_leaves_the_shared_weights_whole(
    face_models_dir: Path, aligned_faces: np.ndarray
) -> None:
    def fp32_face() -> np.ndarray:
        return load_restorer("gfpgan", CPU, allow_download=False, precision="fp32").restore(aligned_faces[:1], 0.0)

    fp32 = load_restorer("gfpgan", CPU, allow_download=False, precision="fp32")
    before = fp32.restore(aligned_faces[:1], 0.0)
    bf16 = load_restorer("gfpgan", CPU, allow_download=False, precision="bf16")
    assert bf16.precision == "bf16" and next(bf16.model.parameters()).dtype == torch.bfloat16
    assert bf16.model is not fp32.model
    # Neither the restorer holding the shared model nor a new one gets the bf16-rounded weights.
    np.testing.assert_array_equal(fp32.restore(aligned_faces[:1], 0.0), before)
    np.testing.assert_array_equal(fp32_face(), before)


def test_gfpgan_creativity_acts_through_preconditioning(
    gfpgan: SpandrelFaceRestorer, aligned_faces: np.ndarray
) -> None:
    outputs = []
    for creativity in (0.0, 1.0):
        pre = preconditioning_for(FaceSettings(creativity=creativity), gfpgan.creativity_by_preconditioning)
        outputs.append(gfpgan.restore(pre.apply(aligned_faces[:1]), creativity))
    # Random weights respond weakly to their input; any consistent change shows the plumbing.
    assert np.abs(outputs[0] - outputs[1]).mean() > 1e-5


def test_preconditioning_is_seeded_and_monotonic(aligned_faces: np.ndarray) -> None:
    face = aligned_faces[:1]
    a = Preconditioning(0.8, 0.02, 7).apply(face)
    np.testing.assert_array_equal(a, Preconditioning(0.8, 0.02, 7).apply(face))
    assert not np.array_equal(a, Preconditioning(0.8, 0.02, 8).apply(face))
    changes = [
        np.abs(preconditioning_for(FaceSettings(creativity=c), True).apply(face) - face).mean() for c in (0.0, 0.5, 1.0)
    ]
    assert changes[0] == 0 and changes[0] < changes[1] < changes[2]
    # A fidelity model gets no creativity pre-conditioning unless the user asks for it.
    assert preconditioning_for(FaceSettings(creativity=1.0), False).is_identity


def test_passthrough_returns_the_aligned_face(aligned_faces: np.ndarray) -> None:
    assert load_restorer("passthrough", CPU, allow_download=False).restore(aligned_faces, 0.5) is aligned_faces
    assert not Passthrough().runs_network


def test_a_missing_model_file_is_named(models_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="nothing.pth"):
        load_restorer(str(tmp_path / "nothing.pth"), CPU, allow_download=False)
    with pytest.raises(ModelError, match="GFPGANv1.4.pth"):
        load_restorer("gfpgan", CPU, allow_download=False)


def test_auto_prefers_codeformer_for_small_or_blurred_faces(aligned_faces: np.ndarray) -> None:
    # Fine texture everywhere stands for a sharp face; the demo faces themselves are degraded.
    sharp = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    blurred = np.full_like(sharp, 128)
    both = {"gfpgan", "codeformer"}
    assert choose_model(300, sharp, both) == "gfpgan"
    assert choose_model(40, sharp, both) == "codeformer"
    assert choose_model(300, blurred, both) == "codeformer"
    assert choose_model(40, sharp, {"gfpgan"}) == "gfpgan"
    assert choose_model(300, sharp, set()) == "gfpgan"
