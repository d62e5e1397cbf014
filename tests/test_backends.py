"""Backends: torch, OpenVINO and ONNX Runtime give torch fp32's faces; choice, precision and the fp32 re-run.

The converted backends' graphs come from the session's conversion cache (conftest): each
stand-in model converts once per backend and stored precision.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from support import psnr

from restore_core.cli import main
from restore_core.errors import ModelError, SettingsError
from restore_core.models import MODELS
from restore_core.restore import load_restorer
from restore_core.restore.backends import BACKENDS, precision, resolve_backend

CPU = torch.device("cpu")
#: the registry's first model of each architecture (GFPGAN v1.4, CodeFormer)
GFPGAN, CODEFORMER = (next(n for n, m in MODELS.items() if m.architecture == a) for a in ("GFPGAN", "CodeFormer"))
#: (backend, precision) against torch fp32: fp32 must agree to 60 dB, reduced precision to 40 dB
CONTENDERS = [("torch", "bf16"), ("openvino", "fp32"), ("openvino", "bf16"), ("onnxruntime", "fp32")]
NATIVE_BF16 = pytest.mark.skipif(
    not precision.cpu_computes_bf16(), reason="this CPU has no bf16 arithmetic: bf16 is never chosen here"
)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, random_gfpgan: Path, random_codeformer: Path) -> Iterator[Path]:
    """A models folder with the stand-in GFPGAN and CodeFormer, CodeFormer's licence accepted,
    for the whole module (the restorers below load by registry name)."""
    from restore_core.models import accept_licence, model_path, needs_licence

    folder = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEMEND_MODELS", str(folder))
        model_path(GFPGAN).symlink_to(random_gfpgan)
        model_path(CODEFORMER).symlink_to(random_codeformer)
        for name in needs_licence():
            accept_licence(name)
        yield folder


@pytest.fixture(scope="module")
def faces(aligned_dir: Path) -> np.ndarray:
    """Two real aligned faces, 2 x 512 x 512 x 3 float32 in 0..1."""
    names = ["0143.png", "Einstein01_gray.png"]
    return np.stack([np.asarray(Image.open(aligned_dir / n).convert("RGB"), dtype=np.float32) / 255 for n in names])


@pytest.fixture(scope="module")
def face(faces: np.ndarray) -> np.ndarray:
    return faces[:1]


def _restorer(name: str, backend: str, precision_name: str | None = None) -> Any:
    return load_restorer(name, CPU, allow_download=False, backend=BACKENDS[backend], precision=precision_name)


def _to8(faces: np.ndarray) -> np.ndarray:
    return np.clip(faces * 255 + 0.5, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def torch_faces(models: Path, faces: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    """torch's 8-bit faces per (model, precision) (CodeFormer at creativity 0.5): fp32 is the
    yardstick; bf16 is what the torch backend runs on this CPU today."""
    precisions = ["fp32", "bf16"] if precision.cpu_computes_bf16() else ["fp32"]
    return {
        (m, p): _to8(_restorer(m, "torch", p).restore(_inputs(m, faces), 0.5))
        for m in (GFPGAN, CODEFORMER)
        for p in precisions
    }


def _inputs(model: str, faces: np.ndarray) -> np.ndarray:
    """Both faces for GFPGAN, one for CodeFormer (five times GFPGAN's time a face on a CPU)."""
    return faces if model == GFPGAN else faces[:1]


@pytest.mark.parametrize("model", [GFPGAN, CODEFORMER])
@pytest.mark.parametrize(("backend", "precision_name"), CONTENDERS)
def test_every_backend_gives_torch_fp32s_face(
    torch_faces: dict[tuple[str, str], np.ndarray], faces: np.ndarray, model: str, backend: str, precision_name: str
) -> None:
    if precision_name == "bf16" and not precision.cpu_computes_bf16():
        pytest.skip("this CPU has no bf16 arithmetic: bf16 is never chosen here")
    restorer = _restorer(model, backend, precision_name)
    assert restorer.backend == backend and precision_name in restorer.precision
    restored = (
        _to8(restorer.restore(_inputs(model, faces), 0.5)) if backend != "torch" else torch_faces[model, precision_name]
    )
    agreement = psnr(restored, torch_faces[model, "fp32"])
    if precision_name == "fp32":
        assert agreement >= 60
    elif model == CODEFORMER:  # bf16 in the decoder only: the code lookup is fp32's
        assert agreement >= 40
    else:
        # GFPGAN in bf16 end to end: the random stand-in amplifies rounding (torch's own bf16
        # path, today's default, reaches 37-38 dB here): no worse than it by more than 3 dB.
        assert agreement >= min(40, psnr(torch_faces[model, "bf16"], torch_faces[model, "fp32"]) - 3)


@pytest.mark.parametrize("backend", ["openvino", "onnxruntime"])
def test_a_creativity_change_runs_the_decoder_only_on_converted_backends(
    models: Path, face: np.ndarray, backend: str
) -> None:
    restorer = _restorer(CODEFORMER, backend, "fp32")
    assert restorer.caches_encoder
    features = restorer.encode(face)
    restorer.prepare()  # the decoder's graph loaded too
    runs: list[str] = []
    for part, graph in list(restorer._graphs.items()):
        restorer._graphs[part] = lambda inputs, graph=graph, part=part: runs.append(part) or graph(inputs)
    realistic, creative = restorer.decode(features, 0.0), restorer.decode(features, 1.0)
    assert runs == ["decoder", "decoder"]
    assert np.abs(realistic - creative).mean() > 0.01
    np.testing.assert_array_equal(restorer.restore(face, 1.0), creative)  # the whole network, split


@NATIVE_BF16
def test_a_nan_in_reduced_precision_runs_again_in_fp32(models: Path, face: np.ndarray) -> None:
    restorer = _restorer(GFPGAN, "openvino", "bf16")
    load = restorer.runtime.load

    def poisoned(folder: Path, precision_name: str) -> Any:
        graph = load(folder, precision_name)
        if precision_name == "fp32":
            return graph
        return lambda inputs: [np.full_like(out, np.nan) for out in graph(inputs)]

    restorer.runtime.load = poisoned
    restored = restorer.restore(face, 0.0)
    assert restorer.precision == "fp32" and np.isfinite(restored).all()
    np.testing.assert_array_equal(restored, _restorer(GFPGAN, "openvino", "fp32").restore(face, 0.0))


def test_auto_is_torch_on_gpus_and_openvino_on_a_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_backend("auto", "auto", torch.device("cuda")).name == "torch"
    assert resolve_backend("auto", "auto", torch.device("mps")).name == "torch"
    assert resolve_backend("auto", "cpu", CPU).name == "openvino"
    monkeypatch.setattr(type(BACKENDS["openvino"]), "available", lambda self: self.name != "openvino")
    assert resolve_backend("auto", "cpu", CPU).name == "torch"
    with pytest.raises(ModelError, match="OpenVINO backend is not installed"):
        resolve_backend("openvino", "auto", CPU)


def test_a_converting_backend_refuses_a_torch_device_and_unknown_names() -> None:
    with pytest.raises(SettingsError, match="choose --backend torch for cuda"):
        resolve_backend("onnxruntime", "cuda", torch.device("cuda"))
    with pytest.raises(SettingsError, match="backend must be one of"):
        resolve_backend("tensorrt", "auto", CPU)


@pytest.mark.parametrize(
    ("supports", "accelerator", "native_bf16", "offered", "expected"),
    [
        ((True, True), True, False, ("fp32", "fp16"), "fp16"),  # a GPU, a model that allows half precision
        ((False, True), True, False, ("fp32", "fp16"), "fp32"),  # GFPGAN and CodeFormer on a GPU: spandrel says no
        ((False, True), False, True, ("fp32", "bf16"), "bf16"),  # a CPU with AMX or AVX512-BF16
        ((False, True), False, False, ("fp32", "bf16"), "fp32"),  # most laptops: bf16 would be emulated
        ((False, False), False, True, ("fp32", "bf16"), "fp32"),  # an architecture without bf16
        ((True, True), False, True, ("fp32",), "fp32"),  # ONNX Runtime's CPU: fp32 only
    ],
)
def test_the_fastest_precision_is_native_and_allowed(
    monkeypatch: pytest.MonkeyPatch,
    supports: tuple[bool, bool],
    accelerator: bool,
    native_bf16: bool,
    offered: tuple[precision.Precision, ...],
    expected: str,
) -> None:
    monkeypatch.setattr(precision, "cpu_computes_bf16", lambda: native_bf16)
    descriptor = SimpleNamespace(supports_half=supports[0], supports_bfloat16=supports[1])
    assert precision.fastest_precision(descriptor, accelerator=accelerator, offered=offered) == expected


def test_a_precision_the_model_or_backend_cannot_run_is_refused(models: Path) -> None:
    with pytest.raises(ModelError, match="cannot run in fp16 on the onnxruntime backend"):
        _restorer(GFPGAN, "onnxruntime", "fp16")
    with pytest.raises(ModelError, match="cannot run in fp16 on torch"):
        _restorer(GFPGAN, "torch", "fp16")


def test_the_cli_restores_on_the_backend_asked_for_and_reports_it(
    face_models_dir: Path, photos_dir: Path, tmp_path: Path
) -> None:
    out, report = tmp_path / "out.png", tmp_path / "report.json"
    args = ["restore", str(photos_dir / "collage_two_faces.jpg"), "-o", str(out), "--json", str(report)]
    args += ["--detector", "retinaface_mobile0.25", "--model", GFPGAN, "--mask", "box", "--backend", "onnxruntime"]
    assert main(args) == 0
    faces = json.loads(report.read_text())["faces"]
    assert [(f["backend"], f["precision"]) for f in faces] == [("onnxruntime", "fp32")] * 2
    assert json.loads(report.read_text())["settings"]["backend"] == "onnxruntime"
