"""Property-based run of the intake API against its own OpenAPI document: no body or parameter
that the generator can think of produces a server error or a reply that breaks the schema.
Bounded in examples so it stays fast, and derandomized so CI runs the same examples every time:
`make fuzz` runs many more, with a new seed each time, to look for new failures."""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from intake.keys import channel_api_key_create
from tests.factories import ChannelFactory

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes "old" connections around each request, which would close the
    test's transaction; Django's own test client switches this off the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db, keep_test_connection):
    _, plain = channel_api_key_create(channel=ChannelFactory(code="fuzz", name="Fuzz"))
    return f"Bearer {plain}"


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_never_errors_and_keeps_to_its_schema(case, bearer):
    case.call_and_validate(
        headers={"Authorization": bearer},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
