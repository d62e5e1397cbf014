"""Which precision a network runs in: the fastest the hardware computes natively, where the
architecture allows it (spandrel's descriptor says), float32 otherwise."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Literal

from ...errors import ModelError

if TYPE_CHECKING:
    import torch

Precision = Literal["fp32", "bf16", "fp16"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "bf16", "fp16")


@functools.cache
def cpu_computes_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic (AVX512-BF16 or AMX): there bf16 convolutions run at
    about twice the fp32 rate (measured 2x GFPGAN, 2.3x CodeFormer); elsewhere oneDNN emulates
    bf16, slower than fp32, so most laptops run fp32."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu's own probes
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def torch_dtype(precision: Precision) -> torch.dtype:
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def precision_of(dtype: torch.dtype) -> Precision:
    return next(p for p in PRECISIONS if torch_dtype(p) == dtype)


def inference_dtype(descriptor: Any, device: torch.device, *, cpu_bf16: bool = False) -> torch.dtype:
    """torch's dtype for ``descriptor`` on ``device``: half precision only where spandrel says the
    architecture supports it; on the CPU bf16 only when ``cpu_bf16`` is asked for and the CPU
    computes bf16 natively."""
    import torch

    if device.type == "cuda":
        if descriptor.supports_half:
            return torch.float16
        if descriptor.supports_bfloat16 and torch.cuda.is_bf16_supported():
            return torch.bfloat16
    if device.type == "mps" and descriptor.supports_half:
        return torch.float16
    if device.type == "cpu" and cpu_bf16 and descriptor.supports_bfloat16 and cpu_computes_bf16():
        return torch.bfloat16
    return torch.float32


def fastest_precision(descriptor: Any, *, accelerator: bool, offered: tuple[Precision, ...]) -> Precision:
    """For a converted model: fp16 on an accelerator where spandrel says the architecture
    supports half precision; bf16 on a CPU that computes it natively where the architecture
    supports it; fp32 otherwise (and whenever the runtime offers nothing else)."""
    if accelerator and descriptor.supports_half and "fp16" in offered:
        return "fp16"
    if not accelerator and descriptor.supports_bfloat16 and "bf16" in offered and cpu_computes_bf16():
        return "bf16"
    return "fp32"


def checked_precision(requested: str, descriptor: Any, offered: tuple[Precision, ...], where: str) -> Precision:
    """A precision asked for by name (the benchmark, tests): refused where it cannot run."""
    supported = {"fp32": True, "bf16": descriptor.supports_bfloat16, "fp16": descriptor.supports_half}
    if requested not in offered or not supported.get(requested, False):
        raise ModelError(f"{descriptor.architecture.name} cannot run in {requested} on {where}")
    return requested  # one of PRECISIONS: checked above
