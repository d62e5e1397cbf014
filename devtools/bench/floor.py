"""The arithmetic floor of a face model: its FLOPs over this machine's best matmul rate."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch.utils.flop_counter import FlopCounterMode


def count_flops(run: Callable[[], object]) -> int:
    """Floating-point operations torch's counter sees in ``run`` (convolutions and matrix products,
    2 per multiply-add; element-wise work is not counted, so the floor is a true lower bound)."""
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        run()
    return int(counter.get_total_flops())


def floor_seconds(parts: Iterable[tuple[int, float]]) -> float:
    """The least time for work done in parts of (FLOPs, FLOP/s at that part's precision)."""
    return sum(flops / rate for flops, rate in parts)
