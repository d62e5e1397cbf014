"""The one least-recently-used cache of the core: bounded by entry count, by a size budget
(bytes), or both. Thread-safe, since the grain cache is read by the render threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    def __init__(
        self, max_entries: int | None = None, *, max_size: int | None = None, size_of: Callable[[V], int] | None = None
    ) -> None:
        if max_size is not None and size_of is None:
            raise ValueError("a size budget needs size_of")
        self.max_entries = max_entries
        self.max_size = max_size
        self._size_of = size_of
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value of ``key``, now the most recently used; None when absent."""
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key]

    def __getitem__(self, key: K) -> V:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Store ``value`` as the most recently used; the least recently used go past the bounds."""
        with self._lock:
            if key in self._entries:
                self._size -= self._measure(self._entries.pop(key))
            self._entries[key] = value
            self._size += self._measure(value)
            while self._entries and (
                (self.max_entries is not None and len(self._entries) > self.max_entries)
                or (self.max_size is not None and self._size > self.max_size)
            ):
                self._size -= self._measure(self._entries.popitem(last=False)[1])

    def pop(self, key: K) -> V | None:
        """Remove ``key`` and return its value; None when absent."""
        with self._lock:
            if key not in self._entries:
                return None
            value = self._entries.pop(key)
            self._size -= self._measure(value)
            return value

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def keys_oldest_first(self) -> list[K]:
        """The keys, least recently used first (a copy: safe to iterate while others write)."""
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0

    def _measure(self, value: V) -> int:
        return self._size_of(value) if self._size_of is not None else 0
