"""The read-ahead's threads (requests_app/evidence_read_ahead.py): kept between streams, so that a download or a seek
does not hold the event loop while a new thread starts, and never more than KEEP_IDLE of them waiting."""

import threading

from requests_app import evidence_read_ahead
from requests_app.evidence_read_ahead import ReadAhead, _Threads
from tests.conftest import wait_for
from tests.own_loop import run_async


def _read_all(pieces) -> tuple[list[bytes], list[str]]:
    """Every piece through a ReadAhead on an event loop of its own (the browser tests' Playwright may hold this
    thread's), and the name of the thread that closed the source."""
    closed_on = []

    async def read():
        ahead = ReadAhead(pieces, on_exit=lambda: closed_on.append(threading.current_thread().name))
        got = []
        while (piece := await ahead.next_piece()) is not None:
            got.append(piece)
        return got

    return run_async(read(), timeout=10), closed_on


def test_streams_one_after_another_come_in_order_and_reuse_one_thread():
    first, closed_first = _read_all(piece for piece in [b"a", b"b", b"c"])
    thread_ids = []

    def pieces():
        thread_ids.append(threading.get_ident())
        yield b"d"
        yield b"e"

    second, closed_second = _read_all(pieces())
    assert wait_for(lambda: evidence_read_ahead._threads._idle)  # back among the waiting once its stream is done
    third, _ = _read_all(pieces())
    assert first == [b"a", b"b", b"c"] and second == third == [b"d", b"e"]
    assert closed_first == closed_second == ["evidence-read-ahead"]
    assert thread_ids[0] == thread_ids[1]  # the same kept thread, not a new one per stream


def test_a_failing_job_leaves_its_thread_for_the_next_and_idle_threads_are_capped():
    threads = _Threads(keep_idle=2)
    started, release = threading.Barrier(4), threading.Event()
    ran_on = []

    def blocking():
        ran_on.append(threading.current_thread())
        started.wait()
        release.wait()

    for _ in range(3):  # three at once: three threads
        threads.run(blocking)
    started.wait()
    release.set()
    # Once done, two wait for the next job and the third ends.
    assert wait_for(lambda: sum(thread.is_alive() for thread in ran_on) == 2)
    finished = threading.Event()

    def failing():
        raise RuntimeError("a read that failed")

    threads.run(failing)
    threads.run(finished.set)
    assert finished.wait(5)
    assert sum(thread.is_alive() for thread in ran_on) == 2  # the failure ended no thread; none was added
