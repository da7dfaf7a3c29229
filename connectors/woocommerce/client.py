"""WooCommerce's REST API (wc/v3) over the delivery log's HTTP: the store's consumer key and
secret as HTTP basic auth, over HTTPS (or to a stand-in on this machine)."""

import base64
import json

from core.outbox.errors import DeliveryFailed, DeliveryRetry

from ..models import WooCommerceConnection


class WooCommerceClient:
    def __init__(self, connection: WooCommerceConnection, http):
        if not connection.is_connected:
            raise DeliveryFailed(f"{connection.channel} is not connected to WooCommerce: nothing was sent.")
        try:
            base = connection.api_base()
        except ValueError as exc:
            raise DeliveryFailed(str(exc)) from None
        self.connection = connection
        self.http = http
        self.base = f"{base}/wp-json/wc/v3"
        pair = f"{connection.consumer_key}:{connection.consumer_secret}".encode()
        self._auth = "Basic " + base64.b64encode(pair).decode()
        self._secrets = (connection.consumer_key, connection.consumer_secret, self._auth.split(" ", 1)[1])

    def call(self, method: str, path: str, *, json_body=None, params: dict | None = None):
        """One request; returns the decoded JSON. Failures are the outbox's (429/5xx retried,
        401/403 pause the connection, other 4xx dead with WooCommerce's `message`)."""
        response = self.http.request(
            method,
            f"{self.base}{path}",
            headers={"Authorization": self._auth, "Accept": "application/json"},
            json_body=json_body,
            params=params,
            secrets=self._secrets,
        )
        try:
            return response.json()
        except (json.JSONDecodeError, ValueError):
            raise DeliveryRetry(
                f"WooCommerce answered {response.status_code} with a body that is not JSON "
                "(a caching plugin or maintenance page in the way?)."
            ) from None
