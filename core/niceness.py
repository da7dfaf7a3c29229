"""Background work yields the CPU to web requests, in the database too.

The topology on one machine (scripts/topology, docs/scaling.md) starts its workers with `nice`,
so in a burst the web instances answer first. But much of a worker's time is spent by its
PostgreSQL backend, a process of the server's that keeps the default priority: a worker capturing
a batch still takes half the CPU from the instances accepting webhooks. With
DATABASE_NICE_LIKE_PROCESS on, a process started with a niceness gives its backend the same one
when the connection opens, if the server runs on this machine and the process may change it
(root, or CAP_SYS_NICE); otherwise it says so once in the log and goes on as before.
"""

import logging
import os
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
_warned = False


def backend_nice_like_process(sender, connection, **kwargs) -> None:
    """connection_created: the new PostgreSQL backend gets this process's niceness."""
    global _warned
    if connection.vendor != "postgresql" or not getattr(settings, "DATABASE_NICE_LIKE_PROCESS", False):
        return
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    host = connection.settings_dict.get("HOST") or ""
    if nice <= 0 or (host not in LOCAL_HOSTS and not host.startswith("/")):
        return
    pid = connection.connection.info.backend_pid
    try:
        # The pid is the server's: never renice some other process that happens to have it.
        if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
            return
        if os.getpriority(os.PRIO_PROCESS, pid) < nice:
            os.setpriority(os.PRIO_PROCESS, pid, nice)
    except OSError as exc:
        if not _warned:
            _warned = True
            logger.warning("Database backend %s keeps its priority (niceness %s wanted): %s", pid, nice, exc)
