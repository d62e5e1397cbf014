"""Random-initialised weight files of the real architectures, for tests without the real weights.

Each writer builds the published architecture with its published configuration, initialises it
from a fixed seed, and saves its state dict laid out like the published file (same keys, same
shapes, same wrapping), so the file is about the real one's size and loads through the same code.
The weights are random, so outputs are noise-like faces, but they depend on the input.

The tests (session fixtures in tests/conftest.py), the benchmark and the frozen-bundle smoke
test (packaging/build_linux.sh) all write their stand-in models here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from spandrel.architectures.GFPGAN import GFPGAN

SEED = 1234
GFPGAN_IMAGE_SPREAD = 0.5


def write_random_gfpgan(path: Path, seed: int = SEED) -> Path:
    """GFPGAN v1.4 (GFPGANv1Clean, spandrel's configuration), as ``{"params_ema": ...}``."""
    from spandrel.architectures.GFPGAN import GFPGAN

    with _seeded(seed):
        model = GFPGAN(
            out_size=512,
            num_style_feat=512,
            channel_multiplier=2,
            decoder_load_path=None,
            fix_decoder=False,
            num_mlp=8,
            input_is_latent=True,
            different_w=True,
            narrow=1,
            sft_half=True,
        )
        _calibrate_gfpgan(model)
    return _save({"params_ema": model.state_dict()}, path)


def write_random_codeformer(path: Path, seed: int = SEED) -> Path:
    """CodeFormer with the published configuration, as ``{"params_ema": ...}``."""
    from spandrel_extra_arches.architectures.CodeFormer import CodeFormer

    with _seeded(seed):
        model = CodeFormer(
            dim_embd=512,
            n_head=8,
            n_layers=9,
            codebook_size=1024,
            latent_size=256,
            connect_list=["32", "64", "128", "256"],
            fix_modules=["quantize", "generator"],
        )
    return _save({"params_ema": model.state_dict()}, path)


def write_random_restoreformer(path: Path, seed: int = SEED) -> Path:
    """RestoreFormer as TencentARC/GFPGAN v1.3.4 publishes it (spandrel's default configuration
    is that file's), as ``{"params_ema": ...}``."""
    from spandrel.architectures.RestoreFormer import RestoreFormer

    with _seeded(seed):
        model = RestoreFormer()
    return _save({"params_ema": model.state_dict()}, path)


def write_random_realesrgan(path: Path, scale: int, seed: int = SEED) -> Path:
    """RealESRGAN_x{2,4}plus: RRDBNet, 23 blocks, 64 features, in basicsr's key layout.

    Both published files upsample 4x inside the network; the x2 model first folds each 2x2 pixel
    block into channels (pixel unshuffle, 12 input channels), which is how spandrel tells it apart.
    """
    from spandrel.architectures.ESRGAN import ESRGAN

    if scale not in (2, 4):
        raise ValueError(f"Real-ESRGAN plus models are x2 or x4, not x{scale}")
    unshuffle = 4 // scale
    num_blocks = 23
    with _seeded(seed):
        model = ESRGAN(
            in_nc=3 * unshuffle**2,
            out_nc=3,
            num_filters=64,
            num_blocks=num_blocks,
            scale=4,
            shuffle_factor=unshuffle if unshuffle > 1 else None,
        )
    state = {_basicsr_rrdb_key(key, num_blocks): value for key, value in model.state_dict().items()}
    return _save({"params_ema": state}, path)


def write_random_arcface(path: Path, seed: int = SEED) -> Path:
    """facexlib's identity model as ``init_recognition_model('arcface')`` builds it: IR-SE-50.

    The published recognition_arcface_ir_se50.pth is a bare state dict of
    ``Backbone(num_layers=50, drop_ratio=0.6, mode='ir_se')``.
    """
    from facexlib.recognition.arcface_arch import Backbone

    with _seeded(seed):
        model = Backbone(num_layers=50, drop_ratio=0.6, mode="ir_se")
    return _save(model.state_dict(), path)


def write_random_parsenet(path: Path, calibration_face: Path, seed: int = SEED) -> Path:
    """facexlib's face parser as ``init_parsing_model('parsenet')`` builds it; the published
    parsing_parsenet.pth is a bare state dict of ``ParseNet(in_size=512, out_size=512, parsing_ch=19)``.
    ``calibration_face``: a 512 x 512 aligned face image (see ``_calibrate_parsenet``).
    """
    from facexlib.parsing.parsenet import ParseNet

    with _seeded(seed):
        model = ParseNet(in_size=512, out_size=512, parsing_ch=19).eval()
        _calibrate_parsenet(model, calibration_face)
    return _save(model.state_dict(), path)


#: Class shares a calibrated random ParseNet gives a real aligned face: background, hair, neck,
#: cloth and skin as on a portrait; every other class a little.
PARSENET_CLASS_SHARES = {0: 0.35, 17: 0.25, 14: 0.10, 16: 0.05, 1: 0.15}


def _calibrate_parsenet(model: nn.Module, face_path: Path) -> None:
    """Make a random ParseNet's class map of a face hold every class, in portrait-like shares.

    Untouched, its class scores differ by a hundredth of their size and a few classes win
    everywhere (never skin). The last layer is linear, so its scores are standardised per
    class on a real aligned face, then offset per class until the argmax gives
    ``PARSENET_CLASS_SHARES`` there.
    """
    import cv2
    import numpy as np

    bgr = cv2.imread(str(face_path))
    assert bgr is not None, f"{face_path}: OpenCV cannot read it"
    face = bgr[..., ::-1].astype(np.float32) / 255
    with torch.no_grad():
        scores = model(torch.from_numpy(face.copy()).permute(2, 0, 1)[None] * 2 - 1)[0][0].double()
    mean, spread = scores.mean(dim=(1, 2)), scores.std(dim=(1, 2))
    standard = ((scores - mean[:, None, None]) / spread[:, None, None]).numpy()
    classes = len(standard)
    target = np.full(classes, (1 - sum(PARSENET_CLASS_SHARES.values())) / (classes - len(PARSENET_CLASS_SHARES)))
    for index, share in PARSENET_CLASS_SHARES.items():
        target[index] = share
    offset = np.zeros(classes)
    for _ in range(300):
        shares = np.bincount((standard + offset[:, None, None]).argmax(0).ravel(), minlength=classes) / standard[0].size
        offset += 0.05 * np.log(target / (shares + 1e-4))
        offset -= offset.mean()
    conv: nn.Conv2d = model.out_mask_conv.conv2d  # type: ignore[union-attr, assignment]  # facexlib's ConvLayer
    with torch.no_grad():
        conv.weight.div_(spread.float()[:, None, None, None])
        bias = conv.bias
        assert bias is not None
        bias.copy_(((bias.double() - mean) / spread + torch.from_numpy(offset)).float())


def _calibrate_gfpgan(model: GFPGAN) -> None:
    """Make a random GFPGAN's output depend on its input, in a trained model's range.

    With default init the features of its seven-level U-Net fade to almost nothing, so every
    input gives nearly the same face; He init makes the residual sums explode instead. So each
    U-Net and SFT layer is scaled to give unit spread on one random input (LSUV-style), then the
    decoder's to-RGB layers (the image is linear in them) so that the image is centred on 0
    with a spread of 0.5.
    """
    decoder = model.stylegan_decoder
    layers = [
        module
        for name, module in model.named_modules()
        if not name.startswith("stylegan_decoder.") and isinstance(module, (nn.Conv2d, nn.Linear))
    ]
    handles = [layer.register_forward_hook(_to_unit_spread) for layer in layers]
    try:
        with torch.no_grad():
            image = model(torch.rand(1, 3, 512, 512) * 2 - 1)[0]
    finally:
        for handle in handles:
            handle.remove()
    with torch.no_grad():
        factor = GFPGAN_IMAGE_SPREAD / image.std()
        for to_rgb in (decoder.to_rgb1, *decoder.to_rgbs):
            to_rgb.modulated_conv.weight.mul_(factor)
            to_rgb.bias.mul_(factor)
        decoder.to_rgbs[-1].bias.sub_(image.mean(dim=(0, 2, 3)).view(1, 3, 1, 1) * factor)


def _to_unit_spread(layer: nn.Conv2d | nn.Linear, _inputs: object, output: torch.Tensor) -> torch.Tensor:
    """Forward hook: rescale the layer's weights so this output has std 1, and pass it on so."""
    spread = output.std()
    layer.weight.mul_(1 / spread)
    if layer.bias is not None:
        layer.bias.mul_(1 / spread)
    return output / spread


def _basicsr_rrdb_key(key: str, num_blocks: int) -> str:
    """spandrel's old-style ESRGAN key -> the key basicsr's RRDBNet (Real-ESRGAN's files) uses."""
    block = re.fullmatch(r"model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)", key)
    if block:
        return "body.{}.rdb{}.conv{}.{}".format(*block.groups())
    layer, kind = key.rsplit(".", 1)
    names = {
        "model.0": "conv_first",
        f"model.1.sub.{num_blocks}": "conv_body",
        "model.3": "conv_up1",
        "model.6": "conv_up2",
        "model.8": "conv_hr",
        "model.10": "conv_last",
    }
    return f"{names[layer]}.{kind}"


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed torch's CPU generator for a block and give the caller's generator state back after."""
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.random.set_rng_state(state)


def _save(obj: object, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)
    return path
