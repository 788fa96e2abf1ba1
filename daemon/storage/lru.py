"""A mapping that drops its least recently used entry when full: the shape of the sole
writer's caches (``writer.ItemCache``, ``events.ProfileCache``), each of which decides what
it keeps and when it forgets."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        # least recently used first: an OrderedDict, whose ``popitem(last=False)`` is O(1).
        # A dict's first entry is found past every entry deleted before it, until the next
        # resize: dropping one at capacity cost ~10 us, 2.4 s of a 1,000-feed templated
        # first cycle's main process (bench/README.md, "Fifth session").
        self._data: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K) -> V | None:
        v = self._data.get(key)
        if v is not None:
            self._data.move_to_end(key)  # used: dropped last
        return v

    def put(self, key: K, value: V) -> None:
        data = self._data
        if len(data) >= self.capacity and key not in data:
            data.popitem(last=False)  # the least recently used
        data[key] = value

    def forget(self, keys: Iterable[K]) -> None:
        for k in keys:
            self._data.pop(k, None)

    def clear(self) -> None:
        self._data.clear()
