"""Order edits: what an edit asks for (`OrderEdit`), and the plan made of it against the order as
it stands (`edit_plan`: checked and computed, nothing written), with the difference it makes,
field by field, as text and as JSON.

An edit states the order as it should be: the complete list of lines (an existing line named by
its id, or by its SKU for channels that don't know our ids; lines left out lose their unshipped
units), and the address, speed and shipping price when they change. Applying the same edit twice
changes nothing the second time. orders.services.edit applies a plan.

Rules, for units that have left the warehouse: a line can't go below its shipped quantity, its
price can't change and its product can't be swapped (add the other product as a new line). Tax and
discount keep their share of the items' value unless the edit states them.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from core.money import ZERO, quantize
from inventory.models import Product

from .inputs import AddressInput
from .models import Order, OrderLine

MAX_LINE_QUANTITY = 100_000
MAX_UNIT_PRICE = Decimal("99999999.99")
# The largest amount a 12-digit money column holds.
MAX_ORDER_AMOUNT = Decimal("9999999999.99")
ADDRESS_FIELDS = ["name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone"]
ADDRESS_LIMITS = {"name": 200, "company": 200, "line1": 255, "line2": 255, "city": 100, "region": 100}
ADDRESS_LIMITS |= {"postal_code": 20, "country": 2, "phone": 40}
TOTALS = ["subtotal", "shipping_total", "tax_total", "discount_total", "total"]


@dataclass(frozen=True)
class LineEdit:
    """One line as it should be after the edit.

    `line_id`: an existing line (None: a new line, or with `OrderEdit.match_lines_by_sku` the
    existing line with this SKU). `sku`: the product; another SKU on an existing line swaps it
    ("" keeps the line's). `quantity`: the line's whole quantity, shipped units included; 0 drops
    what hasn't shipped. `unit_price`: None keeps the line's price, or for a new or swapped
    product takes its list price.
    """

    line_id: int | None = None
    sku: str = ""
    quantity: int = 0
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class OrderEdit:
    """What an edit asks for; None leaves that part as it is.

    `lines`: every line after the edit. `payment_collected`: the difference to pay was taken with
    the edit (a card on the phone, the channel charged it), so the payment stays as it was.
    `refund_to_store_credit`: what the customer gets back becomes store credit. `refunded_by`:
    the platform that already paid back what the edit takes off (named on the timeline; no refund
    is recorded here, which would pay it twice).
    """

    lines: list[LineEdit] | None = None
    match_lines_by_sku: bool = False
    shipping_address: AddressInput | None = None
    shipping_speed: str | None = None
    shipping_total: Decimal | None = None
    tax_total: Decimal | None = None
    discount_total: Decimal | None = None
    payment_collected: bool = False
    refund_to_store_credit: bool = False
    refunded_by: str = ""


@dataclass(frozen=True)
class LineState:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class LineChange:
    """One line's difference: `change` is added, removed (nothing of it left to ship), swapped
    (another product) or changed (quantity or price)."""

    change: str
    line: OrderLine  # the order's line (a new one has its id once saved)
    before: LineState | None
    after: LineState
    shipped: int = 0

    @property
    def line_id(self) -> int | None:
        return self.line.pk

    @property
    def text(self) -> str:
        b, a = self.before, self.after
        if b is None:
            return f"Added {a.quantity} × {a.name} ({a.sku}) at {a.unit_price}."
        if self.change == "removed":
            cancelled = b.quantity - a.quantity
            if self.shipped:
                return (
                    f"{b.name} ({b.sku}): {cancelled} not yet shipped cancelled, "
                    f"{self.shipped} already shipped."
                )
            return f"Removed {b.quantity} × {b.name} ({b.sku})."
        if self.change == "swapped":
            text = f"{b.quantity} × {b.name} ({b.sku}) swapped for {a.quantity} × {a.name} ({a.sku})"
            if a.unit_price != b.unit_price:
                text += f", price {b.unit_price} → {a.unit_price}"
            return text + "."
        parts = []
        if a.quantity != b.quantity:
            parts.append(f"quantity {b.quantity} → {a.quantity}")
        if a.unit_price != b.unit_price:
            parts.append(f"price {b.unit_price} → {a.unit_price}")
        return f"{a.name} ({a.sku}): " + ", ".join(parts) + "."

    def as_json(self) -> dict:
        b = self.before or LineState("", "", 0, ZERO)
        a = self.after
        return {
            "change": self.change,
            "line": self.line_id,
            "sku": [b.sku, a.sku],
            "name": [b.name, a.name],
            "quantity": [b.quantity, a.quantity],
            "unit_price": [str(b.unit_price) if self.before else None, str(a.unit_price)],
            "shipped": self.shipped,
            "text": self.text,
        }


@dataclass
class EditPlan:
    """An edit checked against the order as it stands, nothing written.

    `lines`: the order's lines after the edit (changed in memory, new ones unsaved), without the
    ones removed whole, which are in `deleted`. `address`: the new address's values, or None when
    it doesn't change. `totals`: each money field before and after.
    """

    order: Order
    lines: list[OrderLine]
    updated: list[OrderLine]
    created: list[OrderLine]
    deleted: list[OrderLine]
    line_changes: list[LineChange]
    address_before: dict[str, str]
    address: dict[str, str] | None
    speed: tuple[str, str] | None
    totals: dict[str, tuple[Decimal, Decimal]]
    changes: OrderEdit = field(default_factory=OrderEdit)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def lines_changed(self) -> bool:
        return bool(self.line_changes)

    @property
    def changed(self) -> bool:
        return bool(
            self.line_changes
            or self.address is not None
            or self.speed is not None
            or any(before != after for before, after in self.totals.values())
        )

    @property
    def difference(self) -> Decimal:
        """The new total less the old: positive to collect, negative to pay back."""
        before, after = self.totals["total"]
        return after - before

    @property
    def nothing_left_to_ship(self) -> bool:
        """Every unit left has shipped (and some have): the order is complete."""
        return all(ln.quantity <= ln.quantity_shipped for ln in self.lines) and any(
            ln.quantity_shipped for ln in self.lines
        )

    def texts(self) -> list[str]:
        """The difference as sentences, for the timeline and the customer's e-mail."""
        texts = [change.text for change in self.line_changes]
        if self.address is not None:
            texts.append(
                "Shipping address: "
                + (_address_text(self.address_before) or "none")
                + " → "
                + _address_text(self.address)
                + "."
            )
        if self.speed is not None:
            before, after = (Order.ShippingSpeed(s).label for s in self.speed)
            texts.append(f"Shipping speed: {before} → {after}.")
        before, after = self.totals["shipping_total"]
        if before != after:
            texts.append(f"Shipping: {before} → {after} {self.order.currency}.")
        return texts

    def as_json(self) -> dict:
        data: dict = {"lines": [change.as_json() for change in self.line_changes]}
        if self.address is not None:
            data["shipping_address"] = {"before": self.address_before, "after": self.address}
        if self.speed is not None:
            data["shipping_speed"] = list(self.speed)
        data["totals"] = {name: [str(b), str(a)] for name, (b, a) in self.totals.items()}
        return data


def _address_text(values: dict[str, str]) -> str:
    city = " ".join(p for p in [values.get("postal_code", ""), values.get("city", "")] if p)
    parts = [values.get("name", ""), values.get("line1", ""), values.get("line2", ""), city]
    return ", ".join(p for p in [*parts, values.get("region", ""), values.get("country", "")] if p)


def address_values(data: AddressInput) -> dict[str, str]:
    """An address as it is stored: trimmed, cut to the columns' lengths, country upper case."""
    values = {name: (getattr(data, name) or "").strip() for name in ADDRESS_FIELDS}
    values["country"] = values["country"].upper()
    return {name: value[: ADDRESS_LIMITS[name]] for name, value in values.items()}


def address_values_of(order: Order) -> dict[str, str]:
    address = order.shipping_address
    return {name: getattr(address, name) if address else "" for name in ADDRESS_FIELDS}


def edit_difference(*, order: Order, changes: OrderEdit) -> EditPlan:
    """The plan `changes` would make of the order as it stands, whether or not the order can be
    edited now: to show a change that can't be applied (`texts()`, `errors`). No lock, nothing
    written; three queries."""
    lines = list(order.lines.select_related("product").order_by("pk"))
    skus = edit_skus(changes)
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}
    return edit_plan(order=order, lines=lines, changes=changes, products=products)


def edit_skus(changes: OrderEdit) -> set[str]:
    """The SKUs an edit names, to read their products in one query."""
    return {(line.sku or "").strip() for line in changes.lines or () if (line.sku or "").strip()}


class _Errors(dict):
    def add(self, key: str, message: str) -> None:
        self.setdefault(key, message)


def edit_plan(*, order: Order, lines: list[OrderLine], changes: OrderEdit, products: dict) -> EditPlan:
    """Check `changes` against the order and its `lines` (with products) and compute the result.

    `products` are the products of the SKUs the edit names (edit_skus), by SKU. Returns the plan
    with the per-field errors it found in `errors` (empty when the edit can be applied).
    """
    errors = _Errors()
    plan_lines, updated, created, deleted, line_changes = _plan_lines(
        order=order, lines=lines, changes=changes, products=products, errors=errors
    )
    before_address = address_values_of(order)
    address = None
    if changes.shipping_address is not None:
        values = address_values(changes.shipping_address)
        country = (changes.shipping_address.country or "").strip()
        if not (len(country) == 2 and country.isalpha() and country.isascii()):
            errors.add("shipping_address.country", "Must be a 2-letter ISO 3166-1 country code.")
        if values != before_address:
            address = values
    speed = None
    if changes.shipping_speed is not None and changes.shipping_speed != order.shipping_speed:
        if changes.shipping_speed not in Order.ShippingSpeed.values:
            errors.add("shipping_speed", "Must be one of: " + ", ".join(Order.ShippingSpeed.values) + ".")
        else:
            speed = (order.shipping_speed, changes.shipping_speed)
    totals = _plan_totals(order=order, lines=plan_lines, changes=changes, lines_changed=bool(line_changes))
    for name in ["shipping_total", "tax_total", "discount_total"]:
        value = getattr(changes, name)
        if value is not None and not ZERO <= value <= MAX_UNIT_PRICE:
            errors.add(name, f"Must be between 0 and {MAX_UNIT_PRICE}.")
    if totals["subtotal"][1] + totals["shipping_total"][1] + totals["tax_total"][1] > MAX_ORDER_AMOUNT:
        errors.add("lines", f"The order's total would be over {MAX_ORDER_AMOUNT}: it can't be stored.")
    plan = EditPlan(
        order=order,
        lines=plan_lines,
        updated=updated,
        created=created,
        deleted=deleted,
        line_changes=line_changes,
        address_before=before_address,
        address=address,
        speed=speed,
        totals=totals,
        changes=changes,
        errors=dict(errors),
    )
    return plan


def _plan_lines(*, order, lines, changes, products, errors):
    """The lines after the edit: (lines, updated, created, deleted, changes)."""
    if changes.lines is None:
        return list(lines), [], [], [], []
    by_id = {line.pk: line for line in lines}
    wanted: dict[int, tuple[int, LineEdit]] = {}  # line id -> (index, edit)
    new: list[tuple[int, LineEdit]] = []
    for i, edit in enumerate(changes.lines):
        key = f"lines[{i}]"
        sku = (edit.sku or "").strip()
        if not isinstance(edit.quantity, int) or not 0 <= edit.quantity <= MAX_LINE_QUANTITY:
            errors.add(f"{key}.quantity", f"Must be a whole number from 0 to {MAX_LINE_QUANTITY}.")
            continue
        if edit.unit_price is not None and not ZERO <= edit.unit_price <= MAX_UNIT_PRICE:
            errors.add(f"{key}.unit_price", f"Must be between 0 and {MAX_UNIT_PRICE}.")
            continue
        line_id = edit.line_id
        if line_id is None and changes.match_lines_by_sku and sku:
            line_id = next((ln.pk for ln in lines if ln.sku == sku and ln.pk not in wanted), None)
        if line_id is None:
            if edit.quantity:
                new.append((i, edit))
            continue
        if line_id not in by_id:
            errors.add(f"{key}.line_id", f"Order {order.number} has no line {line_id}.")
        elif line_id in wanted:
            errors.add(f"{key}.line_id", f"Line {line_id} is named twice.")
        else:
            wanted[line_id] = (i, edit)

    plan_lines, updated, created, deleted, line_changes = [], [], [], [], []
    for line in lines:
        before = LineState(line.sku, line.name, line.quantity, line.unit_price)
        index, edit = wanted.get(line.pk, (None, None))
        if edit is None:  # left out: what hasn't shipped goes
            quantity, product, price, sku, name = (
                line.quantity_shipped,
                line.product,
                line.unit_price,
                line.sku,
                line.name,
            )
        else:
            key = f"lines[{index}]"
            sku = (edit.sku or "").strip() or line.sku
            product, name = line.product, line.name
            swapped = sku != line.sku
            if swapped:
                product = products.get(sku)
                if product is None or not product.is_active:
                    errors.add(f"{key}.sku", f"No active product has the SKU “{sku}”.")
                    continue
                name = product.name
                if line.quantity_shipped:
                    errors.add(
                        f"{key}.sku",
                        f"{line.quantity_shipped} × {line.sku} already shipped: it can't become {sku}; "
                        f"keep it at {line.quantity_shipped} and add {sku} as a new line.",
                    )
                    continue
            price = quantize(edit.unit_price) if edit.unit_price is not None else line.unit_price
            if swapped and edit.unit_price is None:
                price = product.price
            # 0 drops what hasn't shipped; a line can't go below what has.
            quantity = edit.quantity or line.quantity_shipped
            if quantity < line.quantity_shipped:
                errors.add(
                    f"{key}.quantity",
                    f"{line.quantity_shipped} × {line.sku} already shipped: "
                    "the quantity can't go below that.",
                )
                continue
            if price != line.unit_price and line.quantity_shipped:
                errors.add(
                    f"{key}.unit_price",
                    f"{line.quantity_shipped} × {line.sku} already shipped at {line.unit_price}: "
                    "the price can't change.",
                )
                continue
        after = LineState(sku, name, quantity, price)
        if after == before and product == line.product:
            plan_lines.append(line)
            continue
        if quantity == 0:
            deleted.append(line)
            line_changes.append(LineChange("removed", line, before, after))
            continue
        change = "changed"
        if sku != line.sku:
            change = "swapped"
        elif quantity <= line.quantity_shipped < before.quantity:
            change = "removed"
        line.product, line.sku, line.name = product, sku, name
        line.quantity, line.unit_price = quantity, price
        plan_lines.append(line)
        updated.append(line)
        line_changes.append(LineChange(change, line, before, after, shipped=line.quantity_shipped))

    for index, edit in new:
        key = f"lines[{index}]"
        sku = (edit.sku or "").strip()
        product = products.get(sku)
        if product is None or not product.is_active:
            errors.add(f"{key}.sku", f"No active product has the SKU “{sku}”.")
            continue
        price = quantize(edit.unit_price) if edit.unit_price is not None else product.price
        line = OrderLine(
            order=order,
            product=product,
            sku=sku,
            name=product.name[:255],
            unit_price=price,
            quantity=edit.quantity,
        )
        plan_lines.append(line)
        created.append(line)
        line_changes.append(LineChange("added", line, None, LineState(sku, line.name, edit.quantity, price)))
    if not plan_lines and not errors:
        errors.add("lines", "An order needs at least one line: cancel the order instead.")
    return plan_lines, updated, created, deleted, line_changes


def _plan_totals(*, order, lines, changes: OrderEdit, lines_changed: bool) -> dict:
    subtotal = sum((quantize(line.unit_price) * line.quantity for line in lines), ZERO)

    def share(value: Decimal) -> Decimal:
        """Tax and discount keep their share of the items' value."""
        if not lines_changed or order.subtotal <= 0:
            return value
        return quantize(value * subtotal / order.subtotal)

    def stated(value, default: Decimal) -> Decimal:
        return quantize(value) if value is not None else default

    shipping = stated(changes.shipping_total, order.shipping_total)
    tax = stated(changes.tax_total, share(order.tax_total))
    discount = stated(changes.discount_total, share(order.discount_total))
    total = max(subtotal + shipping + tax - discount, ZERO)
    after = {
        "subtotal": subtotal,
        "shipping_total": shipping,
        "tax_total": tax,
        "discount_total": discount,
        "total": total,
    }
    return {name: (getattr(order, name), after[name]) for name in TOTALS}
