"""Loading weights safely and into the right spandrel architecture; the random model files; devices."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from devtools.stand_in_models import write_random_arcface, write_random_realesrgan
from restore_core.errors import ModelError, SettingsError
from restore_core.models import (
    MODELS,
    describe_device,
    load_face_model,
    load_state_dict,
    load_upscaler,
    select_device,
)

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def random_realesrgan(random_weights_dir: Path) -> dict[int, Path]:
    return {
        scale: write_random_realesrgan(random_weights_dir / f"RealESRGAN_x{scale}plus.pth", scale) for scale in (2, 4)
    }


# ----- load_state_dict: what is refused -------------------------------------------------------
class _RunsCode:
    """Unpickling this calls ``action(argument)``: the shape of every malicious checkpoint."""

    def __init__(self, action: Callable[[str], object], argument: str) -> None:
        self.action, self.argument = action, argument

    def __reduce__(self) -> tuple[Callable[[str], object], tuple[str]]:
        return self.action, (self.argument,)


def _payloads(marker: Path) -> dict[str, _RunsCode]:
    return {
        "os.system": _RunsCode(os.system, f"echo pwned > '{marker}'"),
        "exec": _RunsCode(exec, f"open({str(marker)!r}, 'w').write('pwned')"),
    }


@pytest.mark.parametrize("payload", ["os.system", "exec"])
def test_a_pickle_that_runs_code_is_refused_and_never_runs(tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "marker.txt"
    evil = _payloads(marker)[payload]
    raw = tmp_path / "raw.pth"
    raw.write_bytes(pickle.dumps(evil))
    pickle.loads(raw.read_bytes())  # proof the payload is real: plain unpickling runs it
    assert marker.exists()
    marker.unlink()

    wrapped = tmp_path / "checkpoint.pth"  # torch.save's zip layout, code hidden beside real tensors
    torch.save({"params_ema": {"conv.weight": torch.zeros(2, 2)}, "hook": evil}, wrapped)
    for path in (raw, wrapped):
        with pytest.raises(ModelError, match=rf"{path.name}: refused: the file holds Python code"):
            load_state_dict(path)
        assert not marker.exists()


def test_refusal_does_not_repeat_torchs_advice_to_disable_weights_only(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"x": _RunsCode(exec, "pass")}, path)
    with pytest.raises(ModelError) as caught:
        load_state_dict(path)
    assert "weights_only" not in str(caught.value) and "GLOBAL exec" in str(caught.value)


def test_torchscript_is_refused_before_torch_loads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "scripted.pt"
    torch.jit.trace(torch.nn.Linear(2, 2), torch.zeros(1, 2)).save(str(path))

    def no_jit_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("torch.jit.load was called")

    monkeypatch.setattr(torch.jit, "load", no_jit_load)
    with pytest.raises(ModelError, match=r"scripted\.pt: is a TorchScript program, not a weights file"):
        load_state_dict(path)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("junk.pth", b"hello, not a checkpoint", r"is not a model file \(its content is not a PyTorch archive\)"),
        ("empty.pth", b"", r"is not a model file \(it is empty"),
        ("truncated.pth", b"\x80\x02}q\x00", "not a readable PyTorch weights file"),
        ("junk.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{}", "not a readable safetensors file"),
        ("weights.onnx", b"onnx", "is not a model file"),
    ],
)
def test_files_that_are_not_weights(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ModelError, match=rf"{name}: {reason}"):
        load_state_dict(path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model file"):
        load_state_dict(tmp_path / "absent.pth")


def test_a_pickle_of_something_else(tmp_path: Path) -> None:
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(ModelError, match="holds a list, not a dictionary of weights"):
        load_state_dict(path)


# ----- load_state_dict: what is read ----------------------------------------------------------
def test_pth_is_unwrapped_from_params_ema_and_module_prefix(tmp_path: Path) -> None:
    weight = torch.arange(6, dtype=torch.float32).view(2, 3)
    path = tmp_path / "wrapped.pth"
    torch.save({"params_ema": {"module.conv.weight": weight, "module.conv.bias": torch.ones(2)}}, path)
    state = load_state_dict(path)
    assert sorted(state) == ["conv.bias", "conv.weight"]
    assert torch.equal(state["conv.weight"], weight) and state["conv.weight"].device.type == "cpu"


def test_safetensors_round_trip(tmp_path: Path) -> None:
    tensors = {"a.weight": torch.randn(3, 4), "a.bias": torch.zeros(3, dtype=torch.float16)}
    path = tmp_path / "model.safetensors"
    save_file(tensors, str(path))
    state = load_state_dict(path)
    assert state.keys() == tensors.keys()
    assert all(torch.equal(state[k], tensors[k]) and state[k].dtype == tensors[k].dtype for k in tensors)


# ----- spandrel descriptors -------------------------------------------------------------------
def test_random_gfpgan_loads_as_gfpgan(random_gfpgan: Path) -> None:
    descriptor = load_face_model(random_gfpgan, CPU)
    assert descriptor.architecture.id == "GFPGAN" and descriptor.purpose == "FaceSR"
    assert descriptor.size_requirements.minimum == 512
    assert not descriptor.model.training
    assert load_face_model(random_gfpgan, CPU) is descriptor  # cached


def test_random_codeformer_loads_as_codeformer(random_codeformer: Path) -> None:
    descriptor = load_face_model(str(random_codeformer), CPU)
    assert descriptor.architecture.id == "CodeFormer" and descriptor.purpose == "FaceSR"
    assert not descriptor.model.training
    assert next(descriptor.model.parameters()).device == CPU


@pytest.mark.parametrize("scale", [2, 4])
def test_random_realesrgan_loads_as_upscaler(random_realesrgan: dict[int, Path], scale: int) -> None:
    descriptor = load_upscaler(random_realesrgan[scale], CPU)
    assert descriptor.architecture.id == "ESRGAN" and descriptor.purpose == "SR"
    assert descriptor.scale == scale
    assert ("unshuffle" in descriptor.tags) == (scale == 2)
    with torch.inference_mode():
        out = descriptor(torch.rand(1, 3, 16, 20))
    assert out.shape == (1, 3, 16 * scale, 20 * scale)


def test_wrong_purpose_is_refused_naming_the_architecture(
    random_realesrgan: dict[int, Path], random_gfpgan: Path
) -> None:
    with pytest.raises(ModelError, match="is a ESRGAN model, not a face restoration model"):
        load_face_model(random_realesrgan[4], CPU)
    with pytest.raises(ModelError, match="is a GFPGAN model, not a super-resolution"):
        load_upscaler(random_gfpgan, CPU)


def test_unknown_architecture_and_damaged_known_one(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.safetensors"
    save_file({"mystery.layer": torch.zeros(3)}, str(unknown))
    with pytest.raises(ModelError, match="not a model architecture Facemend knows"):
        load_face_model(unknown, CPU)
    damaged = tmp_path / "damaged.pth"  # the keys spandrel detects CodeFormer by, nothing else
    keys = [
        "position_emb",
        "idx_pred_layer.1.weight",
        "quantize.embedding.weight",
        "ft_layers.0.self_attn.in_proj_weight",
        "encoder.blocks.0.weight",
    ]
    torch.save({k: torch.zeros(4, 4) for k in keys}, damaged)
    with pytest.raises(ModelError, match="looks like a CodeFormer model but cannot be loaded"):
        load_face_model(damaged, CPU)


# ----- the random files are of the real size, and not degenerate -------------------------------
def test_random_files_are_about_the_published_size(
    random_gfpgan: Path, random_codeformer: Path, random_realesrgan: dict[int, Path], random_weights_dir: Path
) -> None:
    files = {
        "gfpgan": random_gfpgan,
        "codeformer": random_codeformer,
        "realesrgan_x2": random_realesrgan[2],
        "realesrgan_x4": random_realesrgan[4],
        "arcface": write_random_arcface(random_weights_dir / "recognition_arcface_ir_se50.pth"),
    }
    for name, path in files.items():
        published = MODELS[name].display_size
        size = path.stat().st_size
        print(f"{name}: random {size:,} bytes, published {published:,} ({(size - published) / published:+.3%})")
        assert abs(size - published) < 0.01 * published


def test_random_arcface_matches_facexlibs_identity_model(random_weights_dir: Path) -> None:
    from facexlib.recognition.arcface_arch import Backbone

    state = load_state_dict(write_random_arcface(random_weights_dir / "arcface-keys.pth"))
    model = Backbone(num_layers=50, drop_ratio=0.6, mode="ir_se")
    model.load_state_dict(state, strict=True)
    with torch.inference_mode():
        embedding = model.eval()(torch.rand(2, 3, 112, 112))
    assert embedding.shape == (2, 512) and torch.isfinite(embedding).all()


def test_factory_is_seeded(tmp_path: Path) -> None:
    a = load_state_dict(write_random_realesrgan(tmp_path / "a.pth", 4))
    b = load_state_dict(write_random_realesrgan(tmp_path / "b.pth", 4))
    c = load_state_dict(write_random_realesrgan(tmp_path / "c.pth", 4, seed=7))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["conv_first.weight"], c["conv_first.weight"])


def _faces() -> tuple[torch.Tensor, torch.Tensor]:
    """A random 'face' in [-1, 1] and a blurred copy: what pre-conditioning does to an input."""
    generator = torch.Generator().manual_seed(3)
    sharp = torch.rand(1, 3, 512, 512, generator=generator) * 2 - 1
    return sharp, torch.nn.functional.avg_pool2d(sharp, 5, stride=1, padding=2)


def test_random_gfpgan_output_depends_on_its_input(random_gfpgan: Path) -> None:
    model = load_face_model(random_gfpgan, CPU).model
    # The loader shares one model per file: a restorer made earlier may have put it in bf16.
    dtype = next(model.parameters()).dtype
    with torch.inference_mode():
        torch.manual_seed(0)  # GFPGAN's decoder draws noise: same noise for both inputs
        out = model(torch.cat(_faces()).to(dtype))[0].float()
    assert torch.isfinite(out).all()
    assert 0.2 < out.std().item() < 1.0  # in a trained model's range, neither flat nor exploding
    assert (out[0] - out[1]).abs().mean().item() > 0.1


def test_random_codeformer_output_depends_on_input_and_fidelity_weight(random_codeformer: Path) -> None:
    model = load_face_model(random_codeformer, CPU).model
    sharp, blurred = _faces()
    with torch.inference_mode():
        creative = model(sharp, weight=0.0)[0]
        faithful = model(torch.cat([sharp, blurred]), weight=1.0)[0]
    assert torch.isfinite(creative).all() and torch.isfinite(faithful).all()
    assert (creative[0] - faithful[0]).abs().mean().item() > 0.1  # the weight changes the face
    assert (faithful[0] - faithful[1]).abs().mean().item() > 0.1  # so does the input


# ----- devices --------------------------------------------------------------------------------
def test_device_choice_on_a_cpu_only_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert select_device("auto") == CPU and select_device("cpu") == CPU
    for missing in ("cuda", "mps"):
        with pytest.raises(
            ModelError, match=rf"device '{missing}' is not available on this machine; available: auto, cpu$"
        ):
            select_device(missing)
    with pytest.raises(SettingsError, match="device must be one of auto, cpu, cuda, mps"):
        select_device("tpu")


def test_auto_prefers_cuda_then_mps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert select_device("auto").type == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto").type == "cuda"
    assert select_device("mps").type == "mps"


def test_describe_cpu() -> None:
    info = describe_device(CPU)
    assert info.type == "cpu" and info.threads == torch.get_num_threads()
    assert "CPU" in info.name and str(info.threads) in str(info)
