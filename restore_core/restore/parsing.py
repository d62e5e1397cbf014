"""Face parsing with facexlib's ParseNet: aligned faces in, per-pixel class maps out.

The network is facexlib's ``ParseNet(in_size=512, out_size=512, parsing_ch=19)``, the
architecture of ``parsing_parsenet.pth``, built here and loaded through the models package
(``weights_only``): facexlib's ``init_parsing_model`` downloads into site-packages. Its input
is prepared as the official helper prepares it (RGB in [-1, 1], 512 px) and its class map is
the argmax of its first output.

Faces are parsed as they are in the photo (the aligned crop the model is given), not after
restoration as facexlib's helper does: what must keep the photo's pixels (hair, a hand or a
microphone over the face) is what the photo shows, and the mask then stays the same for every
model, creativity and strength.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..align import ALIGNED_SIZE
from ..errors import ModelError

if TYPE_CHECKING:
    import torch

PARSING_MODEL = "parsenet"  # registry name


def parser_available() -> bool:
    """True when the ParseNet weights are in the models folder (verified or not)."""
    from ..models import find

    return find(PARSING_MODEL) is not None


def parser_missing_message() -> str:
    """The one line shown when a face asks for the parsing mask and ParseNet is not installed."""
    from ..models import spec

    model = spec(PARSING_MODEL)
    return (
        f"face parsing ({model.title}, ~{round(model.display_size / 1e6)} MB) is not installed, so faces "
        f"were blended with the box mask: facemend-cli models download {PARSING_MODEL}"
    )


def parser_dtype(device: torch.device) -> torch.dtype:
    """Half precision on GPUs, bf16 on CPUs that compute it natively, else float32.

    ParseNet costs about 470 GFLOP a face (more than GFPGAN); bf16 runs it about 2x faster on
    such CPUs (measured on 2 AMX cores: 4.5 s in float32, 2.1 s in bf16, GFPGAN 1.7 s), and the
    class map is blurred into a soft mask anyway (98% of labels agree with float32).
    """
    import torch

    from .backends.precision import cpu_computes_bf16

    if device.type in ("cuda", "mps"):
        return torch.float16
    return torch.bfloat16 if cpu_computes_bf16() else torch.float32


class FaceParser:
    """ParseNet on one device. Not thread-safe: one worker owns it."""

    def __init__(
        self, network: torch.nn.Module, device: torch.device, weights: Path, dtype: torch.dtype | None = None
    ) -> None:
        from .backends.torch_backend import BATCH_SIZE

        self.network = network
        self.device = device
        self.weights = weights
        self.network_runs = 0  # forward passes, for tests and diagnostics
        self.batch_size = BATCH_SIZE.get(device.type, 4)
        self.dtype = dtype or parser_dtype(device)
        self.network.to(device=device, dtype=self.dtype).eval()

    def __repr__(self) -> str:
        return f"FaceParser(device={self.device}, weights={str(self.weights)!r})"

    def inputs(self, faces_rgb8: np.ndarray) -> torch.Tensor:
        """The network's input for aligned faces (N x 512 x 512 x 3 uint8), prepared as the
        official helper prepares it: RGB in 0..1 (``img2tensor``), then ``normalize(0.5, 0.5)``."""
        import torch

        batch = np.asarray(faces_rgb8)
        if batch.ndim != 4 or batch.shape[1:] != (ALIGNED_SIZE, ALIGNED_SIZE, 3) or batch.dtype != np.uint8:
            raise ValueError(
                f"faces must be N x {ALIGNED_SIZE} x {ALIGNED_SIZE} x 3 uint8, got {batch.dtype} {batch.shape}"
            )
        x = torch.from_numpy(batch.astype(np.float32) / np.float32(255.0)).permute(0, 3, 1, 2)
        return ((x - 0.5) / 0.5).contiguous()

    def logits(self, faces_rgb8: np.ndarray) -> torch.Tensor:
        """ParseNet's class scores (N x 19 x 512 x 512, float32 on the CPU) for aligned faces."""
        import torch

        x = self.inputs(faces_rgb8)
        parts = []
        with torch.inference_mode():
            for start in range(0, len(x), self.batch_size):
                parts.append(self._run(x[start : start + self.batch_size].to(self.device)))
        return torch.cat(parts)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        """One batch in ``dtype``; on NaN or inf in reduced precision, float32 from then on."""
        import torch

        self.network_runs += 1
        y = self.network(x.to(self.dtype))[0].float()
        if self.dtype != torch.float32 and not torch.isfinite(y).all():
            self.dtype = torch.float32
            self.network.float()
            self.network_runs += 1
            y = self.network(x.float())[0]
        return y.cpu()

    def parse(self, faces_rgb8: np.ndarray) -> np.ndarray:
        """Class maps (N x 512 x 512 uint8, indices of ``compose.PARSE_CLASSES``) of aligned faces."""
        return classes_of(self.logits(faces_rgb8))


def classes_of(logits: torch.Tensor) -> np.ndarray:
    """The class map of ParseNet scores: the argmax over channels, as uint8."""
    import torch

    return logits.argmax(dim=1).to(torch.uint8).numpy()


def load_face_parser(device: torch.device | str, dtype: torch.dtype | None = None) -> FaceParser:
    """ParseNet on ``device`` (in ``dtype``, default ``parser_dtype``) from the models folder;
    ``ModelError`` when it is not installed."""
    import torch

    from ..models import build_parsenet, find, load_state_dict

    path = find(PARSING_MODEL)
    if path is None:
        raise ModelError(parser_missing_message())
    return FaceParser(build_parsenet(load_state_dict(path), path), torch.device(device), Path(path), dtype)
