"""The intake models moved from orders to the intake app without losing a row: rows written
before the move (through the historical models) are read after it through intake's models, with
the same primary keys and content, and permissions made for the old content types now belong to
intake (orders 0008, intake 0001 and 0002). Each test leaves the schema at the latest migrations.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from intake.models import ChannelApiKey, IdempotencyRecord, ImportBatch, InboundRequest, SkuMapping
from orders.models import Order

# Before the move: orders at its last migration that had the intake models, intake unmigrated.
BEFORE = [("orders", "0007_lean_indexes_on_hot_tables"), ("intake", None)]
MOVED = {
    "channelapikey": ChannelApiKey,
    "idempotencyrecord": IdempotencyRecord,
    "importbatch": ImportBatch,
    "inboundrequest": InboundRequest,
    "skumapping": SkuMapping,
}

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets=None):
    """Migrate the test database to targets (default: the latest migrations) and return the
    historical models of the schema it is then at."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    executor.loader.build_graph()  # read again which migrations are applied
    applied = [key for key in executor.loader.applied_migrations if key in executor.loader.graph.nodes]
    return executor.loader.project_state(applied).apps


@pytest.fixture
def before_the_move():
    """The historical models before the move; the latest schema again after the test."""
    try:
        yield migrate(BEFORE)
    finally:
        migrate()


def intake_rows_write(apps) -> dict:
    """One row of each moved model (and the order and product they point at), written through
    the historical models of `apps`; returns every moved model's rows as values() dicts."""
    Channel = apps.get_model("orders", "Channel")
    Order = apps.get_model("orders", "Order")
    Product = apps.get_model("inventory", "Product")
    channel = Channel.objects.create(code="web", name="Web shop", kind="web", webhook_secret="s3cret")
    order = Order.objects.create(
        number="ORD-MOVE-1",
        channel=channel,
        external_id="WEB-1",
        email="ada@example.com",
        total=Decimal("69.00"),
        placed_at=dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC),
    )
    product = Product.objects.create(sku="MUG-1", name="Mug", price=Decimal("12.50"))
    batch = apps.get_model("orders", "ImportBatch").objects.create(
        channel=channel, file_name="orders.csv", layout="marketplace", content="order_id,sku\n1,MUG-1\n"
    )
    apps.get_model("orders", "ChannelApiKey").objects.create(
        channel=channel, name="shop backend", prefix="a1b2c3d4", secret_hash="f" * 64
    )
    apps.get_model("orders", "InboundRequest").objects.create(
        source="api",
        channel=channel,
        delivery_id="idem-1",
        topic="/api/v1/orders",
        headers={"content-type": "application/json"},
        body='{"external_id": "WEB-1"}',
        outcome="captured",
        response_status=201,
        order=order,
        import_batch=batch,
    )
    apps.get_model("orders", "IdempotencyRecord").objects.create(
        channel=channel,
        key="idem-1",
        request_hash="e" * 64,
        status_code=201,
        response_body={"number": "ORD-MOVE-1", "status": "allocated"},
        order=order,
    )
    apps.get_model("orders", "SkuMapping").objects.create(
        channel=channel, external_key="woo-93", product=product
    )
    return {name: rows_of(apps.get_model("orders", name)) for name in MOVED}


def rows_of(model, fields=()) -> list[dict]:
    return list(model.objects.order_by("pk").values(*fields))


def test_rows_and_permissions_written_before_the_move_are_intakes_after_it(before_the_move):
    apps = before_the_move
    before = intake_rows_write(apps)
    old_type = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="orders", model="inboundrequest"
    )[0]
    replay = apps.get_model("auth", "Permission").objects.create(
        content_type=old_type, codename="replay_inboundrequest", name="Can replay inbound requests"
    )
    group = apps.get_model("auth", "Group").objects.create(name="Replayers")
    group.permissions.add(replay)

    migrate()

    assert all(before.values())  # one row each: the comparison below compares something
    # Every column the rows had, as they had it (columns added since are not what moved).
    assert {name: rows_of(model, before[name][0].keys()) for name, model in MOVED.items()} == before
    inbound = InboundRequest.objects.select_related("order", "import_batch", "channel").get()
    assert (inbound.order.number, inbound.import_batch.file_name, inbound.channel.code) == (
        "ORD-MOVE-1",
        "orders.csv",
        "web",
    )
    assert SkuMapping.objects.get().product.sku == "MUG-1"
    assert IdempotencyRecord.objects.get().order == Order.objects.get(number="ORD-MOVE-1")
    assert Permission.objects.get(pk=replay.pk).content_type.app_label == "intake"
    assert ContentType.objects.get_for_model(InboundRequest).pk == old_type.pk
    user = User.objects.create_user("replayer")
    user.groups.add(Group.objects.get(pk=group.pk))
    assert user.has_perm("intake.replay_inboundrequest")

    # Reversible: back before the move, the rows and the permission belong to orders again.
    apps = migrate(BEFORE)

    assert {name: rows_of(apps.get_model("orders", name)) for name in MOVED} == before
    ContentTypeThen = apps.get_model("contenttypes", "ContentType")
    assert ContentTypeThen.objects.get(pk=old_type.pk).app_label == "orders"
    assert not ContentTypeThen.objects.filter(app_label="intake").exists()


def test_content_types_on_both_sides_are_merged_into_intakes(before_the_move):
    """Code that ran against the new labels before the migration (ContentType.get_for_model in
    the admin's history, say) made an intake content type beside the orders one: the move hands
    the orders one's grants and history to it instead of failing on the unique label."""
    apps = before_the_move
    ContentTypeThen = apps.get_model("contenttypes", "ContentType")
    PermissionThen = apps.get_model("auth", "Permission")
    old_type = ContentTypeThen.objects.get_or_create(app_label="orders", model="inboundrequest")[0]
    new_type = ContentTypeThen.objects.create(app_label="intake", model="inboundrequest")
    replay = PermissionThen.objects.create(
        content_type=old_type, codename="replay_inboundrequest", name="Replay"
    )
    only_old = PermissionThen.objects.create(
        content_type=old_type, codename="audit_inboundrequest", name="Audit"
    )
    twin = PermissionThen.objects.create(
        content_type=new_type, codename="replay_inboundrequest", name="Replay"
    )
    group = apps.get_model("auth", "Group").objects.create(name="Replayers")
    group.permissions.add(replay, only_old)
    staff = apps.get_model("auth", "User").objects.create(username="staff")
    entry = apps.get_model("admin", "LogEntry").objects.create(
        user=staff, content_type=old_type, object_id="1", object_repr="#1", action_flag=2
    )

    migrate()

    assert list(ContentType.objects.filter(model="inboundrequest").values_list("pk", "app_label")) == [
        (new_type.pk, "intake")
    ]
    granted = set(Group.objects.get(pk=group.pk).permissions.values_list("pk", flat=True))
    assert granted == {twin.pk, only_old.pk}
    assert not Permission.objects.filter(pk=replay.pk).exists()
    assert Permission.objects.get(pk=only_old.pk).content_type_id == new_type.pk
    user = User.objects.get(pk=staff.pk)
    user.groups.add(group.pk)
    assert user.has_perms(["intake.replay_inboundrequest", "intake.audit_inboundrequest"])
    assert LogEntry.objects.get(pk=entry.pk).content_type_id == new_type.pk
