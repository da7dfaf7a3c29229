"""Database work in several threads at once, for the race tests (PostgreSQL row locks).

Every call runs in a thread of its own, so with a database connection of its own, and closes
that connection when it ends: no session is left holding a lock or keeping the test database
from being dropped. Only meaningful in tests marked `postgres` (SQLite ignores row locks) and
`django_db(transaction=True)` (the threads can't see rows the test has not committed).
"""

import threading
import time
from collections.abc import Callable, Sequence

from django.db import connections

# A call still running after this long is stuck: a deadlock or a lock that is never released.
STUCK_AFTER_SECONDS = 120


def _closing_connections(call: Callable[[], object]) -> Callable[[], object]:
    def run():
        try:
            return call()
        finally:
            connections.close_all()

    return run


def run_together(jobs: Sequence[Callable[[], object]], *, raise_errors: bool = False) -> list:
    """Call every job at the same instant (a barrier releases them together), each in its own
    thread and connection. Returns, in the order of `jobs`, what each returned or the exception
    it raised; with raise_errors=True the first exception is raised instead, once all ended.

    Fails the test when a job is still running after STUCK_AFTER_SECONDS. Pass arguments with
    functools.partial (or a default argument), not a closure over a loop variable.
    """
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - handed to the test, which says what it expects
            results[index] = exc

    threads = [
        threading.Thread(target=worker, args=(i, _closing_connections(job)), name=f"racer-{i}")
        for i, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + STUCK_AFTER_SECONDS
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0))
    assert not any(t.is_alive() for t in threads), "a racer is stuck: deadlock or lock wait"
    if raise_errors:
        for result in results:
            if isinstance(result, Exception):
                raise result
    return results


def start_in_thread(target: Callable[[], object], results: dict, name: str) -> threading.Thread:
    """Start `target` in a thread named `name` with its own connection, and return the thread
    (the caller joins it). Its return value, or the exception it raised, goes to results[name].
    For races whose steps the test orders itself (hold one, start the other)."""

    def run():
        try:
            results[name] = target()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[name] = exc

    thread = threading.Thread(target=_closing_connections(run), name=name)
    thread.start()
    return thread
