# The intake models (API keys, idempotency records, inbound requests, SKU mappings, CSV imports)
# become models of the intake app: intake/migrations/0001_initial.py adds them to its state.
# State only: their tables keep their names (intake's Meta.db_table) and every row stays.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0007_lean_indexes_on_hot_tables'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ChannelApiKey'),
                migrations.DeleteModel(name='IdempotencyRecord'),
                migrations.DeleteModel(name='InboundRequest'),  # before ImportBatch, which it references
                migrations.DeleteModel(name='ImportBatch'),
                migrations.DeleteModel(name='SkuMapping'),
            ],
            database_operations=[],
        ),
    ]
