"""What the numbers were measured on, and what its arithmetic units can do at best."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    torch_threads: int
    device: str
    torch_version: str
    python_version: str
    system: str
    #: 1-minute load average when the bench started (other processes share the cores)
    load_at_start: float
    #: best fp32 matrix-multiply rate in FLOP/s: the arithmetic ceiling for the models
    matmul_flops: float

    def lines(self) -> list[str]:
        return [
            f"CPU: {self.cpu}, {self.cores} cores, torch threads {self.torch_threads}",
            f"device: {self.device}; torch {self.torch_version}; Python {self.python_version}; {self.system}",
            f"fp32 matmul: {self.matmul_flops / 1e9:.0f} GFLOP/s (best 2048-wide product, torch.matmul or oneDNN)",
            f"load average at start: {self.load_at_start:.2f}",
        ]


def cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on Windows
        return float("nan")


def _best_seconds(run: Callable[[], object], repeats: int) -> float:
    run()  # the first call allocates and picks the kernel
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_rate(dtype: torch.dtype = torch.float32, size: int = 2048, repeats: int = 7) -> float:
    """This CPU's best matrix-product rate in FLOP/s: the ceiling for the models' convolutions.

    The better of torch's matmul (MKL on x86, which picks slower kernels on AMD CPUs) and the
    same-sized product done as a 1 x 1 convolution (oneDNN, which runs the models' convolutions).
    """
    a = torch.randn(size, size, dtype=dtype)
    b = torch.randn(size, size, dtype=dtype)
    # A 1 x 1 convolution of a 64 x 64 x size map is the product of (4096 x size) and (size x size).
    side = 64
    conv = torch.nn.Conv2d(size, size, 1, bias=False).to(dtype).to(memory_format=torch.channels_last)
    x = torch.randn(1, size, side, side, dtype=dtype).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        matmul = 2 * size**3 / _best_seconds(lambda: a @ b, repeats)
        convolution = 2 * side * side * size**2 / _best_seconds(lambda: conv(x), repeats)
    return max(matmul, convolution)


def describe_machine(device: torch.device) -> Machine:
    return Machine(
        cpu=cpu_name(),
        cores=os.cpu_count() or 1,
        torch_threads=torch.get_num_threads(),
        device=str(device),
        torch_version=torch.__version__,
        python_version=platform.python_version(),
        system=platform.platform(terse=True),
        load_at_start=load_average(),
        matmul_flops=matmul_rate(),
    )
