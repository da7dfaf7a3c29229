"""HTTP for deliveries: every exchange recorded (credentials redacted), every failure classified.

A handler makes its calls through `OutboundHttp.request`; what comes back either is a usable
response or raises one of the outcomes in `core.outbox.errors`, so handlers only deal with the
platform's own meaning (a GraphQL `userErrors`, a throttle).
"""

import datetime as dt
import email.utils
import functools
import json
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils import timezone

from .errors import DeliveryFailed, DeliveryRetry, DeliveryRevoked

REDACTED = "[redacted]"
# Headers that carry credentials on any platform we talk to.
SECRET_HEADERS = {
    "authorization",
    "x-shopify-access-token",
    "x-api-key",
    "cookie",
    "set-cookie",
    "proxy-authorization",
}
BODY_LIMIT = 20_000


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or timezone.now())).total_seconds())


def _redacted_headers(headers, extra_secrets: set[str]) -> dict[str, str]:
    return {
        name: (REDACTED if name.lower() in SECRET_HEADERS | extra_secrets else value)
        for name, value in headers.items()
    }


def _redacted_text(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text[:BODY_LIMIT]


@dataclass
class Exchange:
    """One request and what came of it, ready to be stored as a DeliveryAttempt."""

    started_at: dt.datetime
    method: str
    url: str
    request_headers: dict
    request_body: str
    duration_ms: int = 0
    response_status: int | None = None
    response_headers: dict = field(default_factory=dict)
    response_body: str = ""
    error: str = ""


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every delivery, made on first use. Building it loads the CA bundle,
    which took about 65 ms of CPU per delivery when each OutboundHttp made its own (most of an
    attempt to a local receiver, bench/deliveries.py); a context is safe to share across clients
    and threads."""
    return httpx.create_ssl_context()


class OutboundHttp:
    """An httpx client that records every exchange and turns failures into delivery outcomes.

    `secrets` are strings (tokens, keys) blanked wherever they appear in what is recorded.
    """

    def __init__(self, *, timeout: float | None = None, transport: httpx.BaseTransport | None = None):
        self.exchanges: list[Exchange] = []
        self._client = httpx.Client(
            timeout=timeout or settings.OMS["DELIVERY_TIMEOUT_SECONDS"],
            transport=transport,
            verify=_tls_context(),
            follow_redirects=False,
            headers={"User-Agent": "oms-outbox/1"},
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict | None = None,
        json_body=None,
        content: bytes | None = None,
        params: dict | None = None,
        secrets: tuple[str, ...] = (),
        secret_headers: tuple[str, ...] = (),
        accept: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one request. 2xx (and any status in `accept`) is returned; 429 and 5xx, time-outs
        and refused connections raise DeliveryRetry (honouring Retry-After); 401 and 403 raise
        DeliveryRevoked; any other 4xx raises DeliveryFailed with the platform's answer."""
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":"), default=str).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        request = self._client.build_request(method, url, headers=headers, content=content, params=params)
        extra = {h.lower() for h in secret_headers}
        exchange = Exchange(
            started_at=timezone.now(),
            method=method,
            url=_redacted_text(str(request.url), secrets),
            request_headers=_redacted_headers(request.headers, extra),
            request_body=_redacted_text((content or b"").decode("utf-8", "replace"), secrets),
        )
        self.exchanges.append(exchange)
        started = time.perf_counter()
        try:
            response = self._client.send(request)
        except httpx.TimeoutException as exc:
            exchange.error = f"Timed out: {exc!r}"
            raise DeliveryRetry(f"{urlsplit(url).netloc} did not answer in time.") from exc
        except httpx.TransportError as exc:
            exchange.error = f"Connection failed: {exc!r}"
            raise DeliveryRetry(f"Could not reach {urlsplit(url).netloc}: {exc}.") from exc
        finally:
            exchange.duration_ms = int((time.perf_counter() - started) * 1000)
        exchange.response_status = response.status_code
        exchange.response_headers = _redacted_headers(response.headers, extra)
        exchange.response_body = _redacted_text(response.text, secrets)
        status = response.status_code
        if 200 <= status < 300 or status in accept:
            return response
        summary = f"{method} {urlsplit(url).path} answered {status}: {response.text[:300]}"
        if status == 429 or status >= 500:
            raise DeliveryRetry(summary, after=retry_after_seconds(response.headers.get("Retry-After")))
        if status in (401, 403):
            raise DeliveryRevoked(summary)
        raise DeliveryFailed(summary)
