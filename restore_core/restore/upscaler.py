"""A super-resolution model (Real-ESRGAN through spandrel) as a tile function for compose."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .backends.precision import inference_dtype


def tile_upscaler(descriptor: Any, device: torch.device) -> Any:
    """``tile (h x w x 3 float32 0..1) -> (s*h) x (s*w) x 3``, run on ``device`` in inference mode."""
    dtype = inference_dtype(descriptor, device)
    descriptor.to(device).eval()
    if dtype != torch.float32:
        descriptor.to(dtype)

    def run(tile: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(tile.transpose(2, 0, 1)))[None].to(device, dtype)
        with torch.inference_mode():
            y = descriptor(x)  # spandrel's SR call: [0, 1] in and out, padding handled
        return y[0].float().clamp_(0, 1).permute(1, 2, 0).cpu().numpy()

    return run
