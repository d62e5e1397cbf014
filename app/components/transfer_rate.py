"""Download speed and time left, smoothed, from (bytes done, bytes total) samples."""

from __future__ import annotations

import time
from collections.abc import Callable

#: weight of the newest speed sample (an exponential average steadies the time left)
SMOOTHING = 0.3
#: samples closer together than this are merged (a burst of chunks is not a speed)
MIN_INTERVAL_S = 0.25


class TransferRate:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: tuple[float, int] | None = None
        self.speed = 0.0  # bytes per second, 0 until measured

    def update(self, done: int, total: int) -> str:
        """Record a sample; return "12.3 of 348.0 MB · 4.1 MB/s · 1 min 20 s left"."""
        now = self._clock()
        if self._last is None or done < self._last[1]:
            self._last = (now, done)
        elif now - self._last[0] >= MIN_INTERVAL_S:
            sample = (done - self._last[1]) / (now - self._last[0])
            self.speed = sample if not self.speed else SMOOTHING * sample + (1 - SMOOTHING) * self.speed
            self._last = (now, done)
        parts = [f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"]
        if self.speed:
            parts.append(f"{self.speed / 1e6:.1f} MB/s")
            if total:
                parts.append(f"{duration_text((total - done) / self.speed)} left")
        return " · ".join(parts)


def duration_text(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
