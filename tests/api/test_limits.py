"""The API's per-minute limits on the event loop (api.limits.over_and_read_async): requests counting at the same
moment share one Redis round trip, and each is counted as if it had sent its own INCR."""

import asyncio

import pytest
from django.core.cache import cache

from api import limits
from tests.own_loop import run_async


@pytest.fixture(autouse=True)
def clean_counters():
    cache.clear()
    yield
    cache.clear()


def on_a_loop(coroutine):
    return run_async(coroutine)  # an event loop of its own thread, as uvicorn's


def test_requests_counted_together_get_the_counts_their_own_increments_would_have():
    async def twelve_at_once():
        return await asyncio.gather(*(limits.over_and_read_async(
            [("token", "cad", 5), ("unit", f"A{n % 2}", 4)], read_key="connect:test-read") for n in range(12)))

    cache._cache.get_client(write=True).set("connect:test-read", b"generation-1")
    answers = on_a_loop(twelve_at_once())
    overs = [over for over, _ in answers]
    # Five requests within the token's limit, then seven past it; four per unit within the unit's.
    assert sum(("token", "cad") in over for over in overs) == 7
    assert sum(("unit", "A0") in over for over in overs) == 2 and sum(("unit", "A1") in over for over in overs) == 2
    assert all(read == b"generation-1" for _, read in answers)
    # The counters hold every hit, as twelve INCRs would have left them.
    later = on_a_loop(limits.over_and_read_async([("token", "cad", 13)]))
    assert later == ([], None)
    assert on_a_loop(limits.over_and_read_async([("token", "cad", 13)])) == ([("token", "cad")], None)


def test_in_order_the_first_requests_are_the_ones_within_the_limit():
    async def in_order():
        tasks = [asyncio.create_task(limits.over_and_read_async([("token", "avl", 3)])) for _ in range(6)]
        return [over for over, _ in await asyncio.gather(*tasks)]

    assert on_a_loop(in_order()) == [[], [], [], [("token", "avl")], [("token", "avl")], [("token", "avl")]]


def test_without_redis_every_request_counted_together_is_told_so(settings):
    from tests.conftest import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    async def three_at_once():
        return await asyncio.gather(*(limits.over_and_read_async([("token", "cad", 5)], read_key="x")
                                      for _ in range(3)))

    assert on_a_loop(three_at_once()) == [None, None, None]


def test_a_redis_that_lost_the_counting_script_still_counts_every_hit():
    """The counts go in one Redis script (api.limits._COUNT_AND_READ); a Redis restarted since it was loaded gets it
    again, and no hit is lost or counted twice."""
    async def counted_around_a_script_flush():
        first = await limits.over_and_read_async([("token", "gw", 2)])
        await limits._async_client().script_flush()  # as a restarted Redis has forgotten it
        second = await limits.over_and_read_async([("token", "gw", 2)])
        third = await limits.over_and_read_async([("token", "gw", 2)], read_key="connect:test-read")
        return first, second, third

    cache._cache.get_client(write=True).set("connect:test-read", b"generation-2")
    assert on_a_loop(counted_around_a_script_flush()) == (([], None), ([], None), ([("token", "gw")], b"generation-2"))
