"""Demo data for `make run`: warehouses, ~50 products, carriers, channels, ~200 orders in every
state (through the real services), shipments with tracking events, a few returns, and staff
logins for each role. Idempotent: a second run changes nothing."""

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from fulfillment.estimates import estimate_delivery
from fulfillment.models import Box, Carrier, PackingStation, ServiceLevel, ShipFrom, Shipment, TrackingEvent
from fulfillment.services import (
    order_start_fulfillment,
    shipment_deliver,
    shipment_pack,
    shipment_ship,
    shipment_start_picking,
)
from inventory.models import Product, StockItem, Warehouse
from inventory.services import stock_receive
from orders.inputs import AddressInput, LineInput, OrderInput
from orders.models import Channel, Order, OrderEvent
from orders.services import order_cancel, order_capture
from returns.models import ReturnRequest
from returns.services import (
    return_request_approve,
    return_request_create,
    return_request_inspect,
    return_request_receive,
    return_request_refund,
)

DEMO_PASSWORD = "oms-demo-2026"
DEMO_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
STAFF = [
    ("admin", "Demo administrator", None, True),
    ("warehouse", "Wendy Warehouse", "Warehouse staff", False),
    ("service", "Sam Service", "Customer service", False),
    ("manager", "Maya Manager", "Managers", False),
]
WAREHOUSES = [
    ("EWR", "Newark DC", "US", "NJ", 1),
    ("LAX", "Los Angeles DC", "US", "CA", 2),
    ("LON", "London hub", "GB", "", 3),
]
PRODUCT_KINDS = [
    ("TEE", "Organic cotton T-shirt", Decimal("24.00"), 220, False, False),
    ("HOOD", "Fleece hoodie", Decimal("59.00"), 650, False, False),
    ("MUG", "Stoneware mug", Decimal("16.00"), 420, True, False),
    ("BOTL", "Insulated bottle", Decimal("32.00"), 380, False, False),
    ("LAMP", "Desk lamp", Decimal("79.00"), 1400, True, False),
    ("CNDL", "Soy candle", Decimal("18.00"), 300, True, False),
    ("BTRY", "Lithium battery pack", Decimal("45.00"), 500, False, True),
    ("BAG", "Canvas tote bag", Decimal("22.00"), 250, False, False),
    ("CAP", "Baseball cap", Decimal("21.00"), 120, False, False),
    ("SOCK", "Merino socks", Decimal("14.00"), 90, False, False),
]
VARIANTS = ["S", "M", "L", "XL", "BLK"]
CUSTOMERS = [
    ("Ada Lovelace", "ada@example.com", ("12 Analytical Way", "New York", "NY", "10001", "US")),
    ("Grace Hopper", "grace@example.com", ("1 Cobol Ct", "Arlington", "VA", "22201", "US")),
    ("Alan Turing", "alan@example.co.uk", ("7 Bletchley Rd", "Milton Keynes", "", "MK3 6EB", "GB")),
    ("Katherine Johnson", "katherine@example.com", ("300 E St SW", "Washington", "DC", "20546", "US")),
    ("Hedy Lamarr", "hedy@example.com", ("9 Frequency Ln", "Los Angeles", "CA", "90028", "US")),
    ("Tim Berners-Lee", "tim@example.co.uk", ("4 Web St", "London", "", "SW1A 1AA", "GB")),
    ("Margaret Hamilton", "margaret@example.com", ("11 Apollo Dr", "Boston", "MA", "02110", "US")),
    ("Linus Torvalds", "linus@example.com", ("5 Kernel Ave", "Portland", "OR", "97201", "US")),
]
# How many orders end in each state, in the order the demo drives them.
PLAN = [
    ("delivered", 70),
    ("shipped", 30),
    ("partially_shipped", 6),
    ("processing", 20),
    ("allocated", 25),
    ("backordered", 10),
    ("on_hold", 15),
    ("cancelled", 15),
    ("returned", 15),
]


def demo_staff_create() -> dict:
    """The demo logins (STAFF), each in its staff group, password DEMO_PASSWORD; existing ones are
    kept as they are. Returns {username: user}. The role tests log in with these."""
    User = get_user_model()
    users = {}
    for username, full_name, group_name, superuser in STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": full_name.split()[0],
                "last_name": full_name.split()[-1],
                "email": f"{username}@oms.example",
                "is_staff": True,
                "is_superuser": superuser,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if group_name:
            user.groups.add(Group.objects.get(name=group_name))
        users[username] = user
    return users


class Command(BaseCommand):
    help = "Load demo data (idempotent) and create demo staff logins."

    def handle(self, *args, **options):
        self._staff()
        if Channel.objects.filter(code="web").exists() and Order.objects.exists():
            self.stdout.write("Demo data already loaded; nothing to do.")
        else:
            # The demo's story happened "in the past": nobody is e-mailed and no background task
            # runs for it (the dummy backend only records what would have been queued).
            with override_settings(TASKS=DEMO_TASKS), transaction.atomic():
                self._catalogue()
                self._orders()
            # The story was backdated around the services, so the dashboard's rollups are built
            # from the finished data (reports' command: portal does not import reports).
            call_command("kpi_rebuild", progress="never", stdout=self.stdout)
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {Order.objects.count()} orders."))
        self.stdout.write(
            "Staff logins (password for all: {}): {}".format(
                DEMO_PASSWORD, ", ".join(f"{u} ({g or 'superuser'})" for u, _, g, _ in STAFF)
            )
        )

    def _staff(self):
        demo_staff_create()

    def _catalogue(self):
        self.rng = random.Random(2026)
        self.warehouses = [
            Warehouse.objects.get_or_create(
                code=code, defaults={"name": name, "country": c, "region": r, "priority": p}
            )[0]
            for code, name, c, r, p in WAREHOUSES
        ]
        self.products = []
        for prefix, name, price, grams, fragile, hazardous in PRODUCT_KINDS:
            for variant in VARIANTS:
                sku = f"{prefix}-{variant}"
                product, _ = Product.objects.get_or_create(
                    sku=sku,
                    defaults={
                        "name": f"{name} ({variant})",
                        "price": price,
                        "weight_grams": grams,
                        "barcode": f"200{len(self.products):09d}",
                        "length_mm": 250,
                        "width_mm": 180,
                        "height_mm": 90,
                        "is_fragile": fragile,
                        "is_hazardous": hazardous,
                    },
                )
                self.products.append(product)
        for i, product in enumerate(self.products):
            for w_index, warehouse in enumerate(self.warehouses):
                quantity = 0 if i % 13 == 0 else self.rng.randint(15, 60) // (w_index + 1)
                if quantity:
                    stock_receive(
                        product=product,
                        warehouse=warehouse,
                        quantity=quantity,
                        bin_location=f"{'ABCDE'[i % 5]}-{i % 12 + 1:02d}-{w_index + 1}",
                        reference="demo-opening-stock",
                    )
        ups = Carrier.objects.get_or_create(
            code="ups",
            defaults={
                "name": "UPS",
                "tracking_url_template": "https://www.ups.com/track?tracknum={tracking_number}",
            },
        )[0]
        fedex = Carrier.objects.get_or_create(
            code="fedex",
            defaults={
                "name": "FedEx",
                "tracking_url_template": "https://www.fedex.com/fedextrack/?trknbr={tracking_number}",
            },
        )[0]
        royal = Carrier.objects.get_or_create(
            code="royalmail",
            defaults={
                "name": "Royal Mail",
                "tracking_url_template": "https://www.royalmail.com/track-your-item#/tracking-results/{tracking_number}",
            },
        )[0]
        levels = [
            (ups, "ground", "Ground", "standard", 4, "16:00", "US", "6.50", "0.80", True),
            (ups, "2day", "2nd Day Air", "express", 2, "15:00", "US", "14.00", "1.50", False),
            (fedex, "overnight", "Priority Overnight", "overnight", 1, "14:00", "US", "29.00", "2.50", False),
            (fedex, "ground", "Ground", "standard", 5, "17:00", "US,CA", "5.90", "0.90", False),
            (royal, "tracked48", "Tracked 48", "standard", 2, "15:30", "GB", "3.90", "0.60", False),
            (royal, "tracked24", "Tracked 24", "express", 1, "15:30", "GB", "5.90", "0.80", False),
        ]
        for carrier, code, name, speed, days, cutoff, countries, per_parcel, per_kg, hazardous in levels:
            ServiceLevel.objects.get_or_create(
                carrier=carrier,
                code=code,
                defaults={
                    "name": name,
                    "speed": speed,
                    "transit_days": days,
                    "cutoff_time": cutoff,
                    "countries": countries,
                    "price_per_parcel": Decimal(per_parcel),
                    "price_per_kg": Decimal(per_kg),
                    "allows_hazardous": hazardous,
                },
            )
        # Packing: boxes to scan, a desk printing PDF labels, where parcels leave from. Carriers stay
        # on the manual gateway (no account needed); set one to "easypost" with EASYPOST_API_KEY.
        for code, name, length, width, height, weight in [
            ("BOX-S", "Small box", 230, 160, 80, 90),
            ("BOX-M", "Medium box", 310, 220, 150, 180),
            ("BOX-L", "Large box", 450, 350, 250, 350),
        ]:
            Box.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "length_mm": length,
                    "width_mm": width,
                    "height_mm": height,
                    "weight_grams": weight,
                },
            )
        if not PackingStation.objects.exists():
            PackingStation.objects.create(
                name="Desk 1", label_format="pdf", default_box=Box.objects.get(code="BOX-M")
            )
        for warehouse in self.warehouses:
            ShipFrom.objects.get_or_create(
                warehouse=warehouse,
                defaults={
                    "name": warehouse.name,
                    "company": "OMS demo",
                    "line1": "1 Depot Road",
                    "city": "Springfield",
                    "region": warehouse.region,
                    "postal_code": "62701" if warehouse.country == "US" else "",
                    "country": warehouse.country,
                },
            )
        # Two products each stocked in one warehouse only: an order for both can only ship in two
        # parcels, from the marketplace channel, which splits (the demo's partially shipped orders).
        self.split_pair = []
        for sku, name, warehouse in [
            ("XMAS-TREE", "Tabletop Christmas tree", self.warehouses[0]),
            ("XMAS-LIGHTS", "String lights (10 m)", self.warehouses[1]),
        ]:
            product, _ = Product.objects.get_or_create(
                sku=sku,
                defaults={
                    "name": name,
                    "price": Decimal("29.00"),
                    "weight_grams": 900,
                    "barcode": f"300{len(self.split_pair):09d}",
                    "length_mm": 400,
                    "width_mm": 200,
                    "height_mm": 200,
                },
            )
            stock_receive(
                product=product,
                warehouse=warehouse,
                quantity=20,
                bin_location="X-01-1",
                reference="demo-opening-stock",
            )
            self.split_pair.append(product)
        kinds = [
            ("web", "Web shop", "web"),
            ("shopify", "Shopify store", "shopify"),
            ("woocommerce", "WooCommerce store", "woocommerce"),
            ("phone", "Phone orders", "phone"),
            ("store", "Flagship store", "store"),
            ("marketplace", "Marketplace", "marketplace"),
        ]
        self.channels = [
            Channel.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})[0]
            for code, name, kind in kinds
        ]
        self.split_channel = self.channels[-1]
        self.split_channel.allocation_strategy = Channel.AllocationStrategy.SPLIT
        self.split_channel.save(update_fields=["allocation_strategy", "updated_at"])

    def _input(self, index: int, state: str) -> OrderInput:
        rng = self.rng
        name, email, (line1, city, region, postcode, country) = CUSTOMERS[index % len(CUSTOMERS)]
        in_stock = [p for i, p in enumerate(self.products) if i % 13]
        products = rng.sample(in_stock, rng.randint(1, 3))
        lines = [LineInput(p.sku, rng.randint(1, 2), p.price) for p in products]
        extra = {}
        if state == "partially_shipped":
            lines = [LineInput(p.sku, 1, p.price) for p in self.split_pair]
        if state == "backordered":
            lines = [LineInput(self.products[13 * rng.randint(0, 3)].sku, 2, Decimal("24.00"))]
        if state == "on_hold":
            problem = index % 3
            if problem == 0:
                extra["payment_status"] = "pending"
            elif problem == 1:
                postcode = "INVALID"
            else:
                lines = [LineInput("DISCONTINUED-1", 1, Decimal("9.99"), "Old catalogue item")]
        # How long ago, by where the order ended up: delivered orders are weeks old, parcels
        # still travelling left a few days ago, work in the warehouse came in the last two days.
        max_days = {
            "delivered": 29,
            "returned": 29,
            "cancelled": 29,
            "shipped": 3,
            "partially_shipped": 2,
            "processing": 1,
            "allocated": 1,
        }.get(state, 9)
        min_days = 4 if state in ("delivered", "returned") else 0
        placed = timezone.now() - dt.timedelta(
            days=rng.randint(min_days, max_days), hours=rng.randint(0, 23), minutes=rng.randint(0, 59)
        )
        return OrderInput(
            external_id=f"DEMO-{index:04d}",
            email=email.replace("@", f"+{index}@"),
            customer_name=name,
            phone="+1 555 0100",
            shipping_address=AddressInput(
                name=name, line1=line1, city=city, region=region, postal_code=postcode, country=country
            ),
            shipping_speed=rng.choice(["standard", "standard", "standard", "express", "overnight"]),
            currency="GBP" if country == "GB" else "USD",
            lines=lines,
            shipping_total=Decimal("5.00"),
            tax_total=Decimal("0.00"),
            payment_method="card",
            payment_status=extra.get("payment_status", "paid"),
            payment_reference=f"ch_demo_{index}",
            placed_at=placed,
        )

    def _orders(self):
        index = 0
        for state, count in PLAN:
            for _ in range(count):
                index += 1
                channel = self.channels[index % len(self.channels)]
                if state == "partially_shipped":
                    channel = self.split_channel
                order = order_capture(channel=channel, data=self._input(index, state))
                self._drive(order, state, index)
        for order in Order.objects.prefetch_related("shipments", "events", "returns"):
            self._backdate(order)
        self._low_stock()

    def _drive(self, order: Order, state: str, index: int):
        if state in ("on_hold", "backordered") or order.status != Order.Status.ALLOCATED:
            return
        if state == "cancelled":
            order_cancel(order_id=order.pk, reason="Customer asked to cancel", notify=False)
            return
        if state == "allocated":
            return
        shipments = order_start_fulfillment(order_id=order.pk)
        if state == "processing":
            if index % 2:
                shipment_start_picking(shipment_id=shipments[0].pk)
            return
        if state == "partially_shipped":
            shipments = shipments[:1]  # the second parcel is still in the warehouse
        for shipment in shipments:
            shipment_pack(shipment_id=shipment.pk)
            shipment = shipment_ship(shipment_id=shipment.pk, notify=False)
            self._tracking(shipment, delivered=state in ("delivered", "returned"))
            if state in ("delivered", "returned"):
                shipment_deliver(shipment_id=shipment.pk, notify=False)
        if state == "returned":
            order.refresh_from_db()
            line = order.lines.first()
            rr = return_request_create(
                order_id=order.pk,
                quantities={line.pk: 1},
                reason=["damaged", "does_not_fit", "changed_mind"][index % 3],
                comment="Demo return",
            )
            step = index % 4
            if step >= 1:
                return_request_approve(return_id=rr.pk)
            if step >= 2:
                return_request_receive(return_id=rr.pk)
                return_request_inspect(return_id=rr.pk)
            if step >= 3:
                return_request_refund(return_id=rr.pk)

    def _tracking(self, shipment: Shipment, *, delivered: bool):
        base = shipment.shipped_at
        steps = [
            ("pre_transit", "Label created", "", 0),
            ("in_transit", "Departed facility", "Newark, NJ", 8),
            ("in_transit", "Arrived at hub", "Chicago, IL", 26),
        ]
        if delivered:
            steps += [
                ("out_for_delivery", "Out for delivery", "Local depot", 44),
                ("delivered", "Delivered, front door", "", 50),
            ]
        TrackingEvent.objects.bulk_create(
            TrackingEvent(
                shipment=shipment,
                tracking_number=shipment.tracking_number,
                carrier_code=shipment.carrier.code if shipment.carrier else "",
                status=status,
                carrier_status=status.upper(),
                description=text,
                location=where,
                occurred_at=base + dt.timedelta(hours=hours),
                source="demo",
            )
            for status, text, where, hours in steps
        )

    def _backdate(self, order: Order):
        """The services ran just now; spread the order's story over the days after it was
        placed, as if it had happened, so lead times, delivery estimates, late shipments and the
        timeline look like a real operation. Everything stays in the past."""
        rng = self.rng
        now = timezone.now()
        placed = order.placed_at
        span = max((now - placed).total_seconds() / 3600 - 0.25, 0.5)  # hours available
        hours = {
            "captured": 0.02,
            "verified": 0.03,
            "held": 0.03,
            "allocated": 0.05,
            "backordered": 0.05,
            "cancelled": rng.uniform(1, 20),
            "fulfillment_started": rng.uniform(2, 20),
        }
        hours["packed"] = hours["fulfillment_started"] + rng.uniform(1, 6)
        hours["shipped"] = hours["packed"] + rng.uniform(0.5, 4)
        hours["delivered"] = hours["shipped"] + rng.uniform(20, 90)
        hours["return"] = hours["delivered"] + rng.uniform(24, 96)
        hours["refund"] = hours["return"] + rng.uniform(48, 120)
        scale = min(1.0, span / max(hours.values()))

        def at(kind):
            return placed + dt.timedelta(hours=hours[kind] * scale)

        Order.objects.filter(pk=order.pk).update(
            created_at=at("captured"),
            verified_at=at("verified") if order.verified_at else None,
            allocated_at=at("allocated") if order.allocated_at else None,
            shipped_at=at("shipped") if order.shipped_at else None,
            delivered_at=at("delivered") if order.delivered_at else None,
            cancelled_at=at("cancelled") if order.cancelled_at else None,
        )
        for shipment in order.shipments.all():
            fields = {"created_at": at("fulfillment_started")}
            if shipment.packed_at:
                fields["packed_at"] = at("packed")
            if shipment.shipped_at:
                fields["shipped_at"] = at("shipped")
                level = shipment.service_level
                if level:
                    fields["estimated_delivery"] = estimate_delivery(
                        at("shipped"), cutoff=level.cutoff_time, transit_days=level.transit_days
                    )
            if shipment.delivered_at:
                fields["delivered_at"] = at("delivered")
            Shipment.objects.filter(pk=shipment.pk).update(**fields)
            if shipment.shipped_at:
                # Carrier scans keep their order and spacing, squeezed in before delivery (or now).
                events = list(shipment.tracking_events.all())
                end = at("delivered") if shipment.delivered_at else now
                offsets = [(e.occurred_at - shipment.shipped_at).total_seconds() for e in events]
                room = (end - at("shipped")).total_seconds()
                squeeze = min(1.0, room / max(max(offsets, default=1), 1))
                for event, offset in zip(events, offsets, strict=True):
                    moved = at("shipped") + dt.timedelta(seconds=offset * squeeze)
                    TrackingEvent.objects.filter(pk=event.pk).update(occurred_at=moved)
        kind_hours = {
            "captured": "captured",
            "verified": "verified",
            "held": "held",
            "allocated": "allocated",
            "backordered": "backordered",
            "cancelled": "cancelled",
            "fulfillment_started": "fulfillment_started",
            "packed": "packed",
            "shipped": "shipped",
            "delivered": "delivered",
            "return": "return",
            "refund": "refund",
        }
        last = placed
        for event in sorted(order.events.all(), key=lambda e: (e.created_at, e.pk)):
            kind = kind_hours.get(event.kind)
            when = max(at(kind) if kind else last, last)
            last = when
            OrderEvent.objects.filter(pk=event.pk).update(created_at=when)
        for rr in order.returns.all():
            fields = {"created_at": at("return")}
            for name, kind in [
                ("approved_at", "return"),
                ("received_at", "refund"),
                ("resolved_at", "refund"),
            ]:
                if getattr(rr, name):
                    fields[name] = at(kind)
            ReturnRequest.objects.filter(pk=rr.pk).update(**fields)

    def _low_stock(self):
        """A few items at or below their reorder point, for the low-stock filter and digest."""
        for item in StockItem.objects.filter(warehouse__code="EWR").order_by("on_hand", "pk")[:6]:
            StockItem.objects.filter(pk=item.pk).update(
                reorder_point=item.on_hand - item.reserved + 5, reorder_quantity=50
            )
