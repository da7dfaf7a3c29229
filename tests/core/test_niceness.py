"""A niced worker's PostgreSQL backend runs at the worker's niceness (core/niceness.py), so in a
burst the web instances' requests come first in the database too."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import os, django
django.setup()
from django.db import connection
connection.ensure_connection()
print(os.getpriority(os.PRIO_PROCESS, connection.connection.info.backend_pid))
"""

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL backends only"),
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0, reason="renicing the server's process needs root"
    ),
]


def backend_niceness(*, nice: int, setting: str | None) -> int:
    s = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/postgres",
        "DEBUG": "1",
    }
    env.pop("DATABASE_NICE_LIKE_PROCESS", None)
    if setting is not None:
        env["DATABASE_NICE_LIKE_PROCESS"] = setting
    out = subprocess.run(
        ["nice", "-n", str(nice), sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(out.stdout.strip().splitlines()[-1])


def test_a_niced_process_gives_its_backend_its_niceness():
    assert backend_niceness(nice=7, setting="1") == 7


def test_without_the_setting_the_backend_keeps_the_servers_priority():
    assert backend_niceness(nice=7, setting=None) == 0


def test_a_process_at_normal_priority_changes_nothing():
    assert backend_niceness(nice=0, setting="1") == 0
