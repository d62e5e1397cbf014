"""A job's events, written by the worker thread and read by any number of event streams.

The worker appends from its own thread; readers live in the event loop. ``publish`` hands the
wake-up to the loop (``call_soon_threadsafe``), and a reader takes its waiter before it looks
at the list, so no event is missed and no reader polls.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

#: a comment line is sent this often on a quiet stream so proxies and clients keep it open
KEEPALIVE_S = 15.0


@dataclass(frozen=True)
class Event:
    name: str  # the SSE event name: progress, complete, failed
    data: dict[str, Any]


class JobFeed:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._closed = False
        self._changed = asyncio.Event()

    def publish(self, event: Event, *, last: bool = False) -> None:
        """Append ``event`` (from any thread); ``last`` closes the feed after it."""
        with self._lock:
            if self._closed:
                return
            self._events.append(event)
            self._closed = last
        self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def events(self) -> AsyncIterator[Event | None]:
        """Every event from the first, then each new one as it comes, until the last.

        Yields None after ``KEEPALIVE_S`` without an event (the stream sends a comment).
        """
        seen = 0
        while True:
            waiter = self._changed
            with self._lock:
                new, closed = self._events[seen:], self._closed
            for event in new:
                yield event
            seen += len(new)
            if closed:
                return
            if not new:
                try:
                    await asyncio.wait_for(waiter.wait(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    yield None
