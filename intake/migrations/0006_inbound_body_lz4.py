"""A stored request's body is compressed with LZ4 instead of PostgreSQL's default pglz.

Bodies of a few KB are compressed as they are written; under a burst of webhooks pglz cost about
a quarter of each delivery's INSERT (docs/benchmarks.md, "Flash sale"). PostgreSQL 14 and newer
built with LZ4 (Debian's and the official images are) take it; a server without it keeps pglz,
and nothing else changes. Elsewhere (SQLite) there is nothing to do."""

from django.db import DatabaseError, migrations, transaction


def _compression(method: str):
    def apply(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql" or connection.pg_version < 140000:
            return
        table = schema_editor.quote_name(apps.get_model("intake", "InboundRequest")._meta.db_table)
        try:
            with transaction.atomic(using=connection.alias):
                schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN body SET COMPRESSION {method}")
        except DatabaseError:  # a server built without LZ4: pglz stays
            pass

    return apply


class Migration(migrations.Migration):
    dependencies = [("intake", "0005_inbound_pending_queue")]

    operations = [migrations.RunPython(_compression("lz4"), _compression("pglz"), elidable=True)]
