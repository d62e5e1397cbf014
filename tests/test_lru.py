"""The core's one LRU cache: bounded by entries, by a size budget, or both."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from restore_core.lru import LRUCache


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and cache.keys_oldest_first() == ["a", "c"]
    cache.put("a", 10)  # replacing refreshes it and counts once
    assert len(cache) == 2 and cache["a"] == 10
    with pytest.raises(KeyError):
        cache["b"]
    cache.clear()
    assert len(cache) == 0 and cache.get("a") is None


def test_a_size_budget_evicts_until_the_total_fits() -> None:
    cache: LRUCache[int, np.ndarray] = LRUCache(max_size=1000, size_of=lambda a: a.nbytes)
    for key in range(4):
        cache.put(key, np.zeros(300, np.uint8))
    assert cache.keys_oldest_first() == [1, 2, 3]  # 900 bytes
    cache.put(9, np.zeros(800, np.uint8))
    assert cache.keys_oldest_first() == [9]
    cache.put(9, np.zeros(100, np.uint8))  # the replaced value's size is given back
    cache.put(1, np.zeros(900, np.uint8))
    assert cache.keys_oldest_first() == [9, 1]
    with pytest.raises(ValueError, match="size_of"):
        LRUCache(max_size=10)


def test_threads_share_it_safely() -> None:
    cache: LRUCache[int, int] = LRUCache(50)

    def work(offset: int) -> None:
        for i in range(2000):
            cache.put((offset + i) % 120, i)
            cache.get(i % 120)

    threads = [threading.Thread(target=work, args=(n * 7,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50 == len(set(cache.keys_oldest_first()))
