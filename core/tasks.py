"""Queueing background work from inside a transaction."""

from functools import partial

from django.db import transaction


def _writes_to_this_database(task) -> bool:
    try:
        from django_tasks_db import DatabaseBackend
    except ImportError:  # pragma: no cover - the package is a dependency
        return False
    return isinstance(task.get_backend(), DatabaseBackend)


def task_enqueue_with_commit(task, **kwargs) -> None:
    """Queue `task` so that it runs only if the surrounding transaction commits.

    With the database backend (production) the task row is inserted now, in the caller's
    transaction: it commits, or rolls back, with the work it is about (a transactional outbox),
    and the worker can't see it before then. That also spares each request a second commit and
    its WAL flush. With any other backend (immediate in tests, or a broker) the task is enqueued
    after commit, so it never runs for work that was rolled back.
    """
    if _writes_to_this_database(task):
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, **kwargs))
