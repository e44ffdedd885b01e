"""Browsers' check-ins, written in batches.

Each running player asks the server for its clock every few seconds; the answer is also a
check-in (the console's "last heard from", D7, and the count of answers the browser still holds,
F4). Writing each one on its own would be a write per candidate every few seconds; instead they
are kept here and written together, at most once every FLUSH_SECONDS per server process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from starlette.concurrency import run_in_threadpool


class CheckIns:
    """One per server process, used from its event loop only."""

    FLUSH_SECONDS = 2.0

    def __init__(self, write: Callable[[Mapping[int, tuple[datetime, int]]], None]) -> None:
        self._write = write
        self._pending: dict[int, tuple[datetime, int]] = {}
        self._written: datetime | None = None

    async def note(self, sitting_id: int, at: datetime, unsent: int) -> None:
        self._pending[sitting_id] = (at, max(0, min(unsent, 10_000)))
        if self._written is None or at - self._written >= timedelta(seconds=self.FLUSH_SECONDS):
            await self.flush(at)

    async def flush(self, at: datetime) -> None:
        batch, self._pending = self._pending, {}
        self._written = at
        if batch:
            await run_in_threadpool(self._write, batch)
