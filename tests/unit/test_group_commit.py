"""The group commit behind the event log: items submitted while a commit is in flight share the next one, and
each caller resumes as soon as its own batch is committed, in the order the items were written. (A caller that
led the commits once waited for every later batch too, and published its event after later ones.)"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, cast

from wyshbone.storage.db import Database, GroupCommit


class SlowDatabase:
    """Commits on a thread, taking a few milliseconds each, like the writer thread does."""

    def __init__(self) -> None:
        self.commits: list[list[int]] = []

    async def write(self, fn: Any) -> Any:
        await asyncio.sleep(0.002)
        return await asyncio.to_thread(fn, None)


async def test_callers_resume_in_write_order_and_none_waits_for_later_batches() -> None:
    database = SlowDatabase()
    seq = itertools.count(1)

    def write(_conn: object, items: list[str]) -> list[int]:
        numbers = [next(seq) for _ in items]
        database.commits.append(numbers)
        return numbers

    group: GroupCommit[str, int] = GroupCommit(cast(Database, database), write)
    resumed: list[int] = []
    batches_seen: dict[int, int] = {}

    async def writer(n: int) -> None:
        for i in range(10):
            number = await group.submit(f"{n}.{i}")
            resumed.append(number)
            batches_seen[number] = len(database.commits)  # commits done when this caller resumed

    await asyncio.gather(*(writer(n) for n in range(20)))
    assert sorted(resumed) == list(range(1, 201))
    assert resumed == sorted(resumed), "a caller resumed after callers whose items were written later"
    assert len(database.commits) < 200  # batched: fewer commits than items
    for batch_no, numbers in enumerate(database.commits, start=1):
        for number in numbers:  # each caller resumed before the batch after its own was committed
            assert batches_seen[number] == batch_no


async def test_a_failed_batch_fails_its_callers_only() -> None:
    database = SlowDatabase()
    failing = {"bad"}

    def write(_conn: object, items: list[str]) -> list[str]:
        if failing & set(items):
            raise RuntimeError("the store refused")
        return items

    group: GroupCommit[str, str] = GroupCommit(cast(Database, database), write)
    first = asyncio.ensure_future(group.submit("bad"))
    await asyncio.sleep(0)  # its batch is in flight: the next item waits for a batch of its own
    second = asyncio.ensure_future(group.submit("good"))
    outcome = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(outcome[0], RuntimeError)
    assert outcome[1] == "good"  # waiting while the failed batch failed, and not failed with it
    assert await group.submit("good") == "good"
