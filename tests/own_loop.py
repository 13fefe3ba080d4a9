"""Coroutines a test runs on an event loop and a thread of their own.

The test's thread may already run an event loop (Playwright's sync API keeps one for the browser tests' session), so
asyncio.run goes to another thread. That thread is never joined without a limit: a loop that does not close (a task
that lost its cancellation, a thread it waits for, a blocking call) fails its test with every thread's stack and
every task's awaits printed, and the run goes on. Joined by a ThreadPoolExecutor instead, such a loop held a whole
CI run until its time ran out, with nothing in the log to say where."""

import asyncio
import faulthandler
import sys
import threading
import time

# Beyond the coroutine's own limit: time for asyncio.run to cancel it and close the loop.
CLOSING_SECONDS = 30


class OwnLoop:
    """asyncio.run(coroutine) started in a daemon thread; result() waits for it, for a limited time."""

    def __init__(self, coroutine):
        self._outcome: dict = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, args=(coroutine,), name="test-own-loop", daemon=True)
        self._thread.start()

    def _run(self, coroutine) -> None:
        try:
            with asyncio.Runner() as runner:
                self._loop = runner.get_loop()
                self._outcome["result"] = runner.run(coroutine)
        except BaseException as exc:  # handed to the test's thread by result()
            self._outcome["error"] = exc

    def _print_tasks(self) -> None:
        """Each task, and the chain of awaits down to what it waits for (Task.print_stack shows its first frame)."""
        for task in asyncio.all_tasks(self._loop):
            print(task, file=sys.stderr)
            awaiting = task.get_coro()
            while awaiting is not None:
                frame = getattr(awaiting, "cr_frame", None) or getattr(awaiting, "gi_frame", None)
                if frame is not None:
                    print(f"  {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}", file=sys.stderr)
                else:
                    print(f"  {awaiting!r}", file=sys.stderr)
                awaiting = getattr(awaiting, "cr_await", None) or getattr(awaiting, "gi_yieldfrom", None)

    def result(self, timeout: float):
        self._thread.join(timeout)
        if self._thread.is_alive():
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._print_tasks)  # printed if the loop still turns
                time.sleep(1)
            raise TimeoutError(f"a coroutine's event loop was still running after {timeout:.0f} s; every thread's "
                               "stack is printed above")
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["result"]


def run_async(coroutine, timeout: float = 60):
    """The coroutine's result; it is cancelled after `timeout` seconds (TimeoutError)."""
    return OwnLoop(asyncio.wait_for(coroutine, timeout)).result(timeout + CLOSING_SECONDS)
