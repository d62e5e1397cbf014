"""How much work Facemend takes on: the default budgets, and the output memory estimate.

The budgets are the defaults of ``params.LimitSettings`` (``--max-megapixels``,
``--max-pixels-per-byte``); decoding checks them against a file's header, the engine checks
the output size before it allocates a pixel.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

#: images above about 400 MP (in or out) are refused unread / unallocated
DEFAULT_MAX_PIXELS = 400_000_000
#: Photos and scans hold at most a few dozen pixels per byte of file (JPEG ~5-30, PNG of a
#: scan ~1-3); a file claiming far more is a decompression bomb. Checked above
#: ``RATIO_CHECK_ABOVE_PIXELS`` only, so small flat graphics pass.
DEFAULT_MAX_PIXELS_PER_BYTE = 100.0
RATIO_CHECK_ABOVE_PIXELS = 50_000_000
#: bytes held per output sample while composing: the output in its own depth, the upscaled
#: original beside it, and float32 working bands (measured peak / output samples, with room)
WORKING_BYTES_PER_SAMPLE = 12


def output_memory_estimate(width: int, height: int, channels: int) -> int:
    """Bytes the output of ``width`` x ``height`` x ``channels`` needs at its peak."""
    return width * height * channels * WORKING_BYTES_PER_SAMPLE


def available_memory() -> int | None:
    """Bytes of memory free for a new allocation now, or None where the platform cannot say."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, ValueError), open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    if sys.platform == "win32":
        return _windows_available()
    with contextlib.suppress(ValueError, OSError, AttributeError):
        # macOS and other POSIX: physical memory; free memory is not exposed without psutil
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return None


def _windows_available() -> int | None:
    class MemoryStatus(ctypes.Structure):
        _fields_ = [
            ("dwLength", ctypes.c_ulong),
            ("dwMemoryLoad", ctypes.c_ulong),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatus()
    status.dwLength = ctypes.sizeof(MemoryStatus)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
        return None
    return int(status.ullAvailPhys)
