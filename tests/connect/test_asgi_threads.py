"""Django's sync code under ASGI runs on threads kept between requests: one request's sync calls share one thread,
two requests served at once never share one, and a request after another reuses the thread it left."""

import asyncio
import threading

from asgiref.sync import sync_to_async

from connect.asgi_threads import ReusedRequestThreads

SCOPE = {"type": "http", "method": "GET", "path": "/"}


def threads_seen(middleware: ReusedRequestThreads, requests: int, *, at_once: bool, meet=None) -> list[set[int]]:
    """Serves `requests` requests (one after another, or all at once); for each, the threads its sync calls ran on."""
    seen: list[set[int]] = []

    async def app(scope, receive, send):
        mine = {await sync_to_async(threading.get_ident)()}
        if meet is not None:
            await sync_to_async(meet.wait)()  # every request must be in its sync code at the same time
        mine.add(await sync_to_async(threading.get_ident)())
        seen.append(mine)

    middleware.app = app

    async def serve():
        if at_once:
            await asyncio.gather(*(middleware(SCOPE, None, None) for _ in range(requests)))
        else:
            for _ in range(requests):
                await middleware(SCOPE, None, None)

    # An event loop of its own on a thread of its own, as a server's: this thread may already run another.
    failed = []
    loop_thread = threading.Thread(target=lambda: _run_recording(serve, failed))
    loop_thread.start()
    loop_thread.join(60)
    assert not loop_thread.is_alive() and not failed, failed
    return seen


def _run_recording(serve, failed: list) -> None:
    try:
        asyncio.run(serve())
    except BaseException as exc:  # reported by the caller, on the test's thread
        failed.append(exc)


def test_requests_one_after_another_reuse_one_thread():
    middleware = ReusedRequestThreads(None)
    seen = threads_seen(middleware, 5, at_once=False)
    assert all(len(threads) == 1 for threads in seen)
    assert len(set().union(*seen)) == 1 and middleware.started == 1


def test_requests_at_once_each_have_a_thread_and_none_waits_for_another():
    middleware = ReusedRequestThreads(None)
    meet = threading.Barrier(3, timeout=30)  # a shared thread would never let the three meet: BrokenBarrierError
    seen = threads_seen(middleware, 3, at_once=True, meet=meet)
    assert all(len(threads) == 1 for threads in seen)
    assert len(set().union(*seen)) == 3
    again = threads_seen(middleware, 3, at_once=True, meet=threading.Barrier(3, timeout=30))
    assert set().union(*again) == set().union(*seen) and middleware.started == 3  # kept, not started again


def test_only_so_many_idle_threads_are_kept():
    middleware = ReusedRequestThreads(None, idle_kept=2)
    threads_seen(middleware, 4, at_once=True, meet=threading.Barrier(4, timeout=30))
    assert len(middleware.idle) == 2
