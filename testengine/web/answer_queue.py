"""Group commit for the player's autosaves.

A save waits for the write in flight to finish, then goes out with every other save that arrived
meanwhile, in one transaction with one commit. Under a steady load most transactions carry one
save; when a room's candidates all save at once, a few transactions carry them all instead of
a thousand threads queueing one by one for SQLite's single writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from starlette.concurrency import run_in_threadpool

from testengine.services.delivery import AnswerRefused, AnswerSave, NotYours, SaveReceipt

Outcome = SaveReceipt | AnswerRefused | NotYours


class AnswerQueue:
    """One per server process, used from its event loop only. `write` saves a batch in one
    transaction (delivery.save_answers, bound to the engine and the grace period)."""

    MAX_BATCH = 500  # one transaction stays short even when a whole hall saves at once

    def __init__(self, write: Callable[[Sequence[AnswerSave]], list[Outcome]]) -> None:
        self._write_batch = write
        self._waiting: list[tuple[AnswerSave, asyncio.Future[SaveReceipt]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def save(self, save: AnswerSave) -> SaveReceipt:
        """The receipt once the answer is committed; AnswerRefused or NotYours if it may not be."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[SaveReceipt] = loop.create_future()
        self._waiting.append((save, future))
        if self._writer is None:
            self._writer = loop.create_task(self._write())
        return await future

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.MAX_BATCH], self._waiting[self.MAX_BATCH :]
                try:
                    await self._commit(batch)
                except Exception:
                    # The database refused the transaction. So that one bad save cannot fail its
                    # neighbours, each is tried again alone and answered with its own outcome.
                    for one in batch:
                        try:
                            await self._commit([one])
                        except Exception as failure:
                            _answer(one[1], failure)
        finally:
            self._writer = None

    async def _commit(self, batch: list[tuple[AnswerSave, asyncio.Future[SaveReceipt]]]) -> None:
        outcomes = await run_in_threadpool(self._write_batch, [s for s, _ in batch])
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            _answer(future, outcome)


def _answer(future: asyncio.Future[SaveReceipt], outcome: SaveReceipt | Exception) -> None:
    if future.done():  # the browser went away; its answer is saved all the same
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
