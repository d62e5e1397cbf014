"""Where models run: the user's choice (auto, cpu, cuda, mps) resolved to a torch device."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import TYPE_CHECKING, get_args

from ..errors import ModelError, SettingsError
from ..params import Device

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES: tuple[str, ...] = get_args(Device)  # the one list: params.Device


@dataclass(frozen=True)
class DeviceInfo:
    """A device as reports show it."""

    type: str  # "cpu", "cuda" or "mps"
    name: str  # e.g. "NVIDIA GeForce RTX 3060", "Apple GPU (Metal)", "x86_64 CPU"
    threads: int  # torch's intra-op CPU threads (used on the CPU and for CPU-side work)

    def __str__(self) -> str:
        return f"{self.name} ({self.type}, {self.threads} CPU threads)"


def available_devices() -> list[str]:
    """Device types this machine can run models on, best first (the ``auto`` order)."""
    import torch

    accelerators = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    return [kind for kind, ok in accelerators.items() if ok] + ["cpu"]


def select_device(preference: str) -> torch.device:
    """``auto`` takes CUDA, then MPS, then the CPU; asking for a missing device is an error."""
    import torch

    if preference not in DEVICE_CHOICES:
        raise SettingsError(f"device must be one of {', '.join(DEVICE_CHOICES)}, got {preference!r}")
    available = available_devices()
    if preference == "auto":
        return torch.device(available[0])
    if preference not in available:
        raise ModelError(
            f"device {preference!r} is not available on this machine; available: {', '.join(['auto', *available])}"
        )
    return torch.device(preference)


def describe_device(device: torch.device) -> DeviceInfo:
    import torch

    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        name = "Apple GPU (Metal)"
    else:
        name = f"{platform.machine() or 'unknown'} CPU"
    return DeviceInfo(type=device.type, name=name, threads=torch.get_num_threads())
