"""The ledger's group commit (audit.ledger.group_commit): requests recording at the same moment share one write, each
has its own entry, none is told "recorded" before the write that carries its entry has committed, and a failed write
fails every request in it, with nothing written."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import DatabaseError, connection

from audit.actions import Action
from audit.ledger import GroupCommit, entry, seal, verify
from audit.models import AccessEntry, PendingEntry

pytestmark = pytest.mark.django_db(transaction=True)


class HeldWrites:
    """The group commit's database thread, as a route gives it one: records each write's size, and holds the first
    write until `release` is set, so that the requests arriving meanwhile queue behind it."""

    def __init__(self):
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="test-ledger")
        self.sizes: list[int] = []
        self.release = threading.Event()

    async def run(self, function, entries):
        self.sizes.append(len(entries))
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._call, function, entries)

    def _call(self, function, entries):
        if len(self.sizes) == 1:
            assert self.release.wait(30)
        try:
            return function(entries)
        finally:
            connection.close()


def search_entry(case: str, **fields) -> dict:
    return entry(actor="api:CAD", action=Action.MAP_SEARCH, target_type="map", case_number=case, **fields)


def recorded_cases() -> list[str]:
    return sorted([*PendingEntry.objects.values_list("case_number", flat=True),
                   *AccessEntry.objects.values_list("case_number", flat=True)])


def in_a_loop(coroutine_function):
    """Runs an async test body on an event loop of its own thread (as uvicorn's), returning its result."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine_function()).result(timeout=60)


async def until(condition, what: str):
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{what} did not happen")


def test_requests_recording_together_share_one_write_and_each_has_its_entry():
    writes = HeldWrites()
    group = GroupCommit(writes.run)

    async def body():
        first = asyncio.create_task(group.record([search_entry("first")]))
        await until(lambda: writes.sizes == [1], "the first write")
        others = [asyncio.create_task(group.record([search_entry(f"case-{i}")])) for i in range(6)]
        await asyncio.sleep(0.05)
        # Nobody is answered while the write holding their entry has not committed.
        assert not first.done() and not any(task.done() for task in others)
        writes.release.set()
        await asyncio.gather(first, *others)
        return writes.sizes

    assert in_a_loop(body) == [1, 6]  # the six that arrived during the first write: one INSERT, one commit
    assert recorded_cases() == ["case-0", "case-1", "case-2", "case-3", "case-4", "case-5", "first"]
    seal()
    assert verify().ok and AccessEntry.objects.count() == 7  # chained like any other entries


def test_a_failed_write_fails_every_request_in_it_and_writes_nothing():
    writes = HeldWrites()
    group = GroupCommit(writes.run)

    async def body():
        first = asyncio.create_task(group.record([search_entry("first")]))
        await until(lambda: writes.sizes == [1], "the first write")
        # One entry the database refuses (a case number longer than its column) sinks the whole INSERT.
        batch = [asyncio.create_task(group.record([search_entry(case)])) for case in ("ok-1", "9" * 80, "ok-2")]
        await asyncio.sleep(0.05)
        writes.release.set()
        await first
        outcomes = await asyncio.gather(*batch, return_exceptions=True)
        # The group commit goes on with the next requests.
        await group.record([search_entry("after")])
        return outcomes

    outcomes = in_a_loop(body)
    assert all(isinstance(outcome, DatabaseError) for outcome in outcomes), outcomes
    assert recorded_cases() == ["after", "first"]


def test_a_lone_request_is_written_at_once_by_itself():
    writes = HeldWrites()
    writes.release.set()
    group = GroupCommit(writes.run)

    async def body():
        await group.record([search_entry("alone")])
        await group.record([search_entry("next"), search_entry("and another")])
        return writes.sizes

    assert in_a_loop(body) == [1, 2]
    assert recorded_cases() == ["alone", "and another", "next"]
