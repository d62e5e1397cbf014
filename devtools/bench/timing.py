"""Alternating timed runs, and the peak memory a run needs.

Contenders run in turn, round after round (ours, reference, ours, reference...), so a
change in the machine's load during the bench hits both alike; the median of each side's
runs is what is reported. Memory is measured in one more, untimed run of each: the free
heap is first handed back to the system, so the run's own allocations show in the resident
set (timed runs keep the warm heap a long-running app has).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class Measurement:
    seconds: tuple[float, ...]
    #: memory a run needed above what the process held before it (bytes), when known
    peak_bytes: int | None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _release_free_heap() -> None:
    """glibc keeps freed memory for reuse; ``malloc_trim`` returns it, so later use faults pages in again."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakMemory:
    """Peak resident memory of a stretch of code above the resident memory at its start.

    Linux only (the kernel's high-water mark is reset through /proc/self/clear_refs);
    elsewhere ``extra_bytes`` is None.
    """

    def __init__(self) -> None:
        self.available = sys.platform.startswith("linux") and _CLEAR_REFS.exists()
        self._start_kib: int | None = None

    def start(self) -> None:
        if not self.available:
            return
        gc.collect()
        _release_free_heap()
        try:
            _CLEAR_REFS.write_text("5")  # "5": reset the peak resident set size to the current one
        except OSError:
            self.available = False
            return
        self._start_kib = _status_kib("VmRSS")

    def extra_bytes(self) -> int | None:
        peak = _status_kib("VmHWM") if self.available else None
        if peak is None or self._start_kib is None:
            return None
        return max(0, peak - self._start_kib) * 1024


def alternate(
    contenders: Mapping[str, Callable[[], object]], rounds: int, *, warmup: int = 1
) -> dict[str, Measurement]:
    """Run each contender ``warmup`` times untimed, ``rounds`` times timed in turn, then once for memory."""
    for _ in range(warmup):
        for run in contenders.values():
            run()
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    peaks = {}
    memory = PeakMemory()
    for name, run in contenders.items():
        memory.start()
        run()
        peaks[name] = memory.extra_bytes()
    return {name: Measurement(tuple(seconds[name]), peaks[name]) for name in contenders}
