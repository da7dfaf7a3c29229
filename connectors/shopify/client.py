"""Shopify's GraphQL Admin API over the delivery log's HTTP, with its throttling honoured.

One API version is pinned (API_VERSION). Shopify answers with HTTP 200 for most failures, so a
response is read for its meaning here:

- `errors` with code THROTTLED: retried after (requestedQueryCost − currentlyAvailable) /
  restoreRate seconds (DeliveryRetry);
- other top-level `errors` (an invalid query or variables, usually without `data`): dead with
  Shopify's message, since sending the same again can't succeed (DeliveryFailed);
- a mutation's `userErrors`: dead with Shopify's message, shown to staff (DeliveryFailed);
- HTTP 429 (Retry-After), 5xx, time-outs: retried; 401/403: the connection pauses (OutboundHttp).

Every response's `extensions.cost.throttleStatus` is remembered per shop in the cache, and a
call whose estimated cost would not fit the bucket as it has refilled since is put off (a
DeliveryRetry for the time the bucket needs) rather than sent to be throttled.
"""

import json

from django.core.cache import cache
from django.utils import timezone

from core.outbox.errors import DeliveryFailed, DeliveryRetry

from ..models import ShopifyConnection

API_VERSION = "2025-07"
THROTTLE_CACHE_SECONDS = 300


def _now() -> float:
    """The time the budget is reckoned in: the delivery log's clock (timezone.now)."""
    return timezone.now().timestamp()


def shopify_gid(kind: str, value) -> str:
    """A Shopify GID from digits (or a GID, returned as it is)."""
    text = str(value).strip()
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def _number(value, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


class ShopifyClient:
    def __init__(self, connection: ShopifyConnection, http):
        if not connection.is_connected:
            raise DeliveryFailed(f"{connection.channel} is not connected to Shopify: nothing was sent.")
        try:
            base = connection.api_base()
        except ValueError as exc:
            raise DeliveryFailed(str(exc)) from None
        self.connection = connection
        self.http = http
        self.url = f"{base}/admin/api/{API_VERSION}/graphql.json"
        self.throttle_key = f"connectors:shopify:throttle:{connection.shop_domain}"

    # --- the cost budget -------------------------------------------------------------------
    def _budget_wait(self, cost: float) -> float:
        """Seconds until the shop's bucket holds `cost` points, by the last throttleStatus seen."""
        status = cache.get(self.throttle_key)
        if not status or not status["rate"]:
            return 0.0
        refilled = status["available"] + (_now() - status["at"]) * status["rate"]
        available = min(status["maximum"], refilled)
        if available >= cost:
            return 0.0
        return (cost - available) / status["rate"]

    def _remember(self, throttle_status) -> None:
        if not isinstance(throttle_status, dict):
            return
        cache.set(
            self.throttle_key,
            {
                "available": _number(throttle_status.get("currentlyAvailable")),
                "maximum": _number(throttle_status.get("maximumAvailable")),
                "rate": _number(throttle_status.get("restoreRate")),
                "at": _now(),
            },
            THROTTLE_CACHE_SECONDS,
        )

    # --- calls ----------------------------------------------------------------------------
    def execute(self, document: str, variables: dict | None = None, *, cost: float = 10) -> dict:
        """Run one query or mutation; returns its `data`. `cost` is our estimate of its
        requested cost, checked against the budget before sending."""
        wait = self._budget_wait(cost)
        if wait > 0:
            raise DeliveryRetry(
                f"Shopify's query budget for {self.connection.shop_domain} is spent: "
                f"waiting {wait:.1f} s for it to refill.",
                after=wait,
            )
        token = self.connection.access_token
        response = self.http.request(
            "POST",
            self.url,
            headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
            json_body={"query": document, "variables": variables or {}},
            secrets=(token,),
        )
        try:
            body = response.json()
        except (json.JSONDecodeError, ValueError):
            raise DeliveryRetry(
                f"Shopify answered {response.status_code} with a body that is not JSON."
            ) from None
        if not isinstance(body, dict):
            raise DeliveryRetry("Shopify answered with JSON that is not an object.")
        cost_info = (body.get("extensions") or {}).get("cost") or {}
        self._remember(cost_info.get("throttleStatus"))
        errors = body.get("errors")
        if errors:
            if isinstance(errors, list) and any(
                isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors
            ):
                raise DeliveryRetry(
                    "Shopify throttled the request (THROTTLED).", after=_throttle_wait(cost_info)
                )
            raise DeliveryFailed(f"Shopify refused the request: {_messages(errors)}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise DeliveryFailed("Shopify answered without data or errors.")
        return data

    def mutate(self, document: str, variables: dict, *, name: str, cost: float = 10) -> dict:
        """Run a mutation; returns its payload. Its userErrors make the delivery dead with
        Shopify's message."""
        payload = self.execute(document, variables, cost=cost).get(name)
        if not isinstance(payload, dict):
            raise DeliveryFailed(f"Shopify's answer has no {name}.")
        user_errors = [*(payload.get("userErrors") or []), *(payload.get("orderCancelUserErrors") or [])]
        if user_errors:
            raise DeliveryFailed(f"Shopify refused {name}: {_messages(user_errors)}")
        return payload


def _throttle_wait(cost_info: dict) -> float:
    status = cost_info.get("throttleStatus") or {}
    rate = _number(status.get("restoreRate"))
    if rate <= 0:
        return 1.0
    missing = _number(cost_info.get("requestedQueryCost")) - _number(status.get("currentlyAvailable"))
    return max(missing / rate, 1.0)


def _messages(errors) -> str:
    if isinstance(errors, str):
        return errors
    parts = []
    for error in errors if isinstance(errors, list) else [errors]:
        if isinstance(error, dict):
            field = error.get("field")
            where = ".".join(str(f) for f in field) + ": " if isinstance(field, list) and field else ""
            code = f" ({error['code']})" if error.get("code") else ""
            parts.append(f"{where}{error.get('message', error)}{code}")
        else:
            parts.append(str(error))
    return "; ".join(parts)
