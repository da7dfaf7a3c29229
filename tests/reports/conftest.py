import csv
import io

import pytest

from tests.factories import user_in_group


@pytest.fixture
def manager(db):
    return user_in_group("manager", "Managers")


@pytest.fixture
def clerk(db):
    """Customer service: may see orders, may not export or see the dashboard."""
    return user_in_group("clerk", "Customer service")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def streamed_text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")
