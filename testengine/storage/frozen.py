"""A bounded cache of records that never change once written: forms and item versions.

Safe in every process, however many serve the same database: a form or an item version is
immutable from the moment it is stored (a changed item gets a new version number). Keys carry
the database URL, so two databases in one process never share entries.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

K = TypeVar("K")
V = TypeVar("V")


class Frozen(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._entries: OrderedDict[tuple[str, K], V] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, session: Session | Connection, key: K) -> V | None:
        full = (_database(session), key)
        with self._lock:
            value = self._entries.get(full)
            if value is not None:
                self._entries.move_to_end(full)
            return value

    def put(self, session: Session | Connection, key: K, value: V) -> None:
        with self._lock:
            self._entries[(_database(session), key)] = value
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)


def _database(source: Session | Connection) -> str:
    bind = source if isinstance(source, Connection) else source.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return str(engine.url)
