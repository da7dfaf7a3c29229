"""Set-wise writes Django's ORM makes expensive.

`Model.objects.bulk_create` prepares every value of every row through its field and the
compiler, and psycopg then quotes the whole batch into the statement in Python: for a batch
capture's 200 orders, their lines, reservations and events that was a third of the batch's
time. On PostgreSQL `rows_insert` takes the rows' ids from their sequence in one query and sends
the rows with COPY (formatted by psycopg's C code), preparing through the field only the values
whose Python type isn't already what the column takes; elsewhere it is bulk_create.

`Model.objects.bulk_update` builds a CASE WHEN per row and per field and resolves each as an
expression: for a batch capture's 200 orders that is most of the batch's Python time. On
PostgreSQL `rows_update` sends one `UPDATE ... FROM (VALUES ...)` instead, with each value
prepared by its field as a save would; elsewhere it falls back to bulk_update.
"""

import datetime as dt
import time
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.db import connections, router
from django.db.models import Model

# Columns whose values go to psycopg as they are when their Python type is one of these; any
# other value (a TextChoices member, a float for a decimal, a naive datetime...) goes through the
# field's get_db_prep_save, as bulk_create would send it.
_AS_IS = {
    "CharField": (str,),
    "TextField": (str,),
    "SlugField": (str,),
    "EmailField": (str,),
    "URLField": (str,),
    "BooleanField": (bool,),
    "IntegerField": (int,),
    "BigIntegerField": (int,),
    "SmallIntegerField": (int,),
    "PositiveIntegerField": (int,),
    "PositiveBigIntegerField": (int,),
    "PositiveSmallIntegerField": (int,),
    "BigAutoField": (int,),
    "AutoField": (int,),
    "DecimalField": (Decimal,),
    "DateField": (dt.date,),
}
_sequences: dict[tuple[str, str], str] = {}
# Fewer rows than this go in one INSERT ... RETURNING (one round trip): COPY needs two, and pays
# off only when there are enough rows to prepare.
COPY_MIN_ROWS = 20


def rows_insert(
    model: type[Model], objs: Sequence[Model], *, lock_order: Callable | None = None
) -> list[Model]:
    """Insert new rows (no pk yet) as bulk_create does, ids set on them, no signals sent: on
    PostgreSQL, from COPY_MIN_ROWS rows on, with one query for the ids and one COPY, which shows
    in the connection's query log (and so in assertNumQueries) as one statement. Returns the
    objects.

    `lock_order` (obj -> a sort key, e.g. the row's unique key) writes the rows in that order
    while their ids still follow the order given: two transactions inserting some of the same
    unique keys then meet on the first shared key and one waits for the other, where in
    different orders each would hold a key the other wants (a deadlock)."""
    if not objs:
        return list(objs)
    db = router.db_for_write(model)
    connection = connections[db]
    few = len(objs) < COPY_MIN_ROWS and (lock_order is None or len(objs) < 2)
    if connection.vendor != "postgresql" or few:  # SQLite has one writer at a time: no deadlock
        return model._default_manager.using(db).bulk_create(objs)
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk]
    table = meta.db_table
    quote = connection.ops.quote_name
    for obj in objs:  # a foreign key set to an object saved since: its id, as bulk_create does
        obj._prepare_related_fields_for_save(operation_name="rows_insert")
    start = time.monotonic()
    with connection.cursor() as cursor:
        sequence = _sequences.get((connection.alias, table))
        if sequence is None:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [quote(table), pk.column])
            sequence = _sequences[(connection.alias, table)] = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, len(objs)])
        ids = [row[0] for row in cursor.fetchall()]
        preparers = [_preparer(f, connection) for f in fields]
        columns = ", ".join(quote(c) for c in [pk.column] + [f.column for f in fields])
        sql = f"COPY {quote(table)} ({columns}) FROM STDIN"
        rows = list(zip(objs, ids, strict=True))
        if lock_order is not None:
            rows.sort(key=lambda row: lock_order(row[0]))
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:  # IntegrityError as Django's
            for obj, pk_value in rows:
                copy.write_row([pk_value] + [prep(obj) for prep in preparers])
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(objs)} rows", "time": f"{time.monotonic() - start:.3f}"}
        )
    for obj, pk_value in zip(objs, ids, strict=True):
        obj.pk = pk_value
        obj._state.adding = False
        obj._state.db = db
    return list(objs)


def _preparer(field, connection):
    """obj -> the value to send for this field of a new row."""
    attname = field.attname
    prep_save = field.get_db_prep_save
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda obj: prep_save(field.pre_save(obj, add=True), connection)
    internal = field.get_internal_type()
    if field.is_relation:
        internal = field.target_field.get_internal_type()
    if internal == "DateTimeField":

        def datetime(obj):
            value = getattr(obj, attname)
            if value is None or (type(value) is dt.datetime and value.tzinfo is not None):
                return value
            return prep_save(value, connection)

        return datetime
    kinds = _AS_IS.get(internal)
    if kinds is None:
        return lambda obj: prep_save(getattr(obj, attname), connection)

    def as_is(obj):
        value = getattr(obj, attname)
        if value is None or type(value) in kinds:
            return value
        return prep_save(value, connection)

    return as_is


def rows_update(model: type[Model], objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Write `fields` of these saved rows, each row its own values, in one statement. Returns the
    number of rows updated. `updated_at`-style auto_now fields are set only if listed."""
    if not objs or not fields:
        return 0
    db = router.db_for_write(model)
    connection = connections[db]
    if connection.vendor != "postgresql":
        return model._default_manager.using(db).bulk_update(objs, fields)
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    for field in columns:
        if getattr(field, "auto_now", False):
            now = field.pre_save(objs[0], add=False)
            for obj in objs[1:]:
                setattr(obj, field.attname, now)
    quote = connection.ops.quote_name
    casts = [f"%s::{pk.db_type(connection)}"] + [f"%s::{f.db_type(connection)}" for f in columns]
    row = "(" + ", ".join(casts) + ")"
    params: list = []
    for obj in objs:
        params.append(pk.get_db_prep_save(obj.pk, connection))
        params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns)
    names = ["pk"] + [f"c{i}" for i in range(len(columns))]
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET "
        + ", ".join(f"{quote(f.column)} = v.c{i}" for i, f in enumerate(columns))
        + f" FROM (VALUES {', '.join([row] * len(objs))}) AS v({', '.join(names)})"
        + f" WHERE t.{quote(pk.column)} = v.pk"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
