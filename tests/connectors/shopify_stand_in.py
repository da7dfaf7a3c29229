"""A stand-in for Shopify's GraphQL Admin API on pytest-httpserver: it answers each operation
(by its name in the document) with the next queued response, and keeps what was sent."""

import json

from werkzeug import Request, Response

from connectors.shopify.client import API_VERSION

LOCATION = "gid://shopify/Location/655441491"
GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"


def operation_name(document: str) -> str:
    for word in ("query", "mutation"):
        document = document.strip()
        if document.startswith(word):
            return document[len(word) :].strip().split("(", 1)[0].split("{", 1)[0].strip()
    return ""


class ShopifyStandIn:
    def __init__(self, httpserver):
        self.httpserver = httpserver
        self.answers: dict[str, list] = {}
        self.sent: list[tuple[str, dict, Request]] = []
        httpserver.expect_request(GRAPHQL_PATH, method="POST").respond_with_handler(self._answer)

    def queue(self, operation: str, *answers) -> None:
        """Answers for an operation, in order; the last one repeats. An answer is a dict (JSON,
        HTTP 200), a werkzeug Response, or a callable taking the request."""
        self.answers.setdefault(operation, []).extend(answers)

    def _answer(self, request: Request) -> Response:
        body = json.loads(request.data)
        name = operation_name(body["query"])
        self.sent.append((name, body.get("variables") or {}, request))
        queue = self.answers.get(name)
        if not queue:
            return Response(
                json.dumps({"errors": [{"message": f"stand-in: no answer for {name}"}]}), status=500
            )
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(answer) and not isinstance(answer, Response):
            answer = answer(request)
        if isinstance(answer, Response):
            return answer
        if isinstance(answer, bytes | str):
            return Response(answer, status=200, content_type="application/json")
        return Response(json.dumps(answer), status=200, content_type="application/json")

    def operations(self) -> list[str]:
        return [name for name, _, _ in self.sent]

    def variables(self, operation: str) -> list[dict]:
        return [variables for name, variables, _ in self.sent if name == operation]


def cost(available=1990, requested=10, maximum=2000.0, rate=100.0) -> dict:
    """`extensions.cost` as Shopify documents it (rate-limits page)."""
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {
                "maximumAvailable": maximum,
                "currentlyAvailable": available,
                "restoreRate": rate,
            },
        }
    }


def fulfillment_orders(order_id: str, orders: list[dict], fulfillments=()) -> dict:
    """An `order.fulfillmentOrders` answer in the documented shape of the fields we ask for (the
    recorded one, bcapps FulfillmentOrderResult, has ids only)."""
    return {
        "data": {
            "order": {
                "id": order_id,
                "fulfillments": list(fulfillments),
                "fulfillmentOrders": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": orders},
            }
        },
        "extensions": cost(available=1700, requested=300),
    }


def fulfillment_order(fo_id: int, location: str, items: list[tuple[int, int, int]], status="OPEN") -> dict:
    """items: (fulfillment order line item id, line item id, remaining quantity)."""
    return {
        "id": f"gid://shopify/FulfillmentOrder/{fo_id}",
        "status": status,
        "assignedLocation": {"location": {"id": location}},
        "supportedActions": [{"action": "CREATE_FULFILLMENT"}, {"action": "HOLD"}, {"action": "MOVE"}],
        "lineItems": {
            "nodes": [
                {
                    "id": f"gid://shopify/FulfillmentOrderLineItem/{item_id}",
                    "remainingQuantity": remaining,
                    "lineItem": {"id": f"gid://shopify/LineItem/{line_id}"},
                }
                for item_id, line_id, remaining in items
            ]
        },
    }


class ShopifyInventory:
    """The inventory side of a shop: variants by SKU, and the available units it was set."""

    def __init__(self, stand_in: ShopifyStandIn, skus):
        self.items = {sku: f"gid://shopify/InventoryItem/{808950810 + i}" for i, sku in enumerate(skus)}
        self.levels: dict[tuple[str, str], int] = {}
        stand_in.queue("VariantBySku", self.variant_by_sku)
        stand_in.queue("InventorySetQuantities", self.set_quantities)
        stand_in.queue("StockLevels", self.stock_levels)

    def _answer(self, data):
        return json.dumps({"data": data, "extensions": cost()})

    def variant_by_sku(self, request):
        query = json.loads(request.data)["variables"]["query"]  # sku:"…"
        sku = query.removeprefix('sku:"').removesuffix('"')
        nodes = [{"sku": sku, "inventoryItem": {"id": self.items[sku]}}] if sku in self.items else []
        return self._answer({"productVariants": {"nodes": nodes}})

    def set_quantities(self, request):
        given = json.loads(request.data)["variables"]["input"]
        changes = []
        for q in given["quantities"]:
            before = self.levels.get((q["inventoryItemId"], q["locationId"]), 0)
            self.levels[(q["inventoryItemId"], q["locationId"])] = q["quantity"]
            changes.append(
                {"name": "available", "delta": q["quantity"] - before, "quantityAfterChange": None}
            )
        group = {"reason": "correction", "changes": changes}
        return self._answer({"inventorySetQuantities": {"inventoryAdjustmentGroup": group, "userErrors": []}})

    def stock_levels(self, request):
        nodes = []
        for sku, item in self.items.items():
            levels = [
                {"location": {"id": location}, "quantities": [{"name": "available", "quantity": units}]}
                for (item_id, location), units in self.levels.items()
                if item_id == item
            ]
            nodes.append({"sku": sku, "inventoryItem": {"id": item, "inventoryLevels": {"nodes": levels}}})
        page = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": nodes}
        return self._answer({"productVariants": page})

    def available(self, sku) -> int:
        return sum(units for (item, _), units in self.levels.items() if item == self.items[sku])
