"""The in-memory caches of data derived from tables: `Cache` names one, `LRU` bounds one.

Each kind of cache is a typed `Cache` declared by the module that owns its data (the rules of a
workspace in store/rules.py, verified tokens in auth.py...); `Store.cached(cache)` gives the
store's instance, `Store.forget(cache)` drops it when its table changes, and a rollback or a
reset drops them all. No cache is named by a string.

The caches keep an entry per key they see; keyed on client input (event names, tokens) they grew
without bound (+59 MiB per 100k distinct event names, issue 13). Each `LRU` holds at most `size`
entries; a hit moves its entry to the young end (one C call).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class Cache(Generic[T]):
    """One kind of cached data: a name (for people reading a repr) and how to make it empty."""

    __slots__ = ("name", "new")

    def __init__(self, name: str, new: Callable[[], T]) -> None:
        self.name = name
        self.new = new

    def __repr__(self) -> str:
        return f"Cache({self.name!r})"


class LRU(Generic[K, V]):
    """At most `size` entries; `get` refreshes an entry, `put` evicts the oldest past `size`."""

    __slots__ = ("_data", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> V:
        data = self._data
        data[key] = value
        data.move_to_end(key)
        if len(data) > self.size:
            data.popitem(last=False)
        return value

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __setitem__(self, key: K, value: V) -> None:
        self.put(key, value)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data
