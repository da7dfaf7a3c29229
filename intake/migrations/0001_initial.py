# The intake models move here from orders (orders/migrations/0008_intake_models_leave_orders.py
# takes them out of orders' state). State only: the tables already exist under the names the
# models keep (Meta.db_table), so no row moves. 0002 moves their content types.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('inventory', '0003_lean_indexes_on_hot_tables'),
        ('orders', '0008_intake_models_leave_orders'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ChannelApiKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('name', models.CharField(blank=True, help_text='Where it is used, e.g. “shop backend”.', max_length=100)),
                        ('prefix', models.CharField(editable=False, help_text='The visible start of the key.', max_length=16, unique=True)),
                        ('secret_hash', models.CharField(editable=False, max_length=64)),
                        ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('channel', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to='orders.channel')),
                    ],
                    options={
                        'verbose_name': 'channel API key',
                        'db_table': 'orders_channelapikey',
                        'ordering': ['channel', '-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ImportBatch',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('file_name', models.CharField(max_length=255)),
                        ('layout', models.CharField(max_length=20)),
                        ('content', models.TextField(help_text='The file as uploaded.')),
                        ('status', models.CharField(choices=[('pending', 'Waiting'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='pending', max_length=10)),
                        ('rows_total', models.PositiveIntegerField(default=0)),
                        ('orders_total', models.PositiveIntegerField(default=0)),
                        ('orders_processed', models.PositiveIntegerField(default=0)),
                        ('orders_created', models.PositiveIntegerField(default=0)),
                        ('orders_held', models.PositiveIntegerField(default=0)),
                        ('orders_duplicate', models.PositiveIntegerField(default=0)),
                        ('orders_invalid', models.PositiveIntegerField(default=0)),
                        ('orders_skipped', models.PositiveIntegerField(default=0, help_text='Cancellation invoices: not orders, reported for staff.')),
                        ('report', models.JSONField(blank=True, default=list, help_text='Per-row problems: row, order id, reason.')),
                        ('error', models.TextField(blank=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('channel', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='import_batches', to='orders.channel')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'order import',
                        'verbose_name_plural': 'order imports',
                        'db_table': 'orders_importbatch',
                        'ordering': ['-created_at', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='IdempotencyRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=255)),
                        ('request_hash', models.CharField(help_text='SHA-256 of the request body.', max_length=64)),
                        ('status_code', models.PositiveSmallIntegerField()),
                        ('response_body', models.JSONField(default=dict)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('channel', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='orders.channel')),
                        ('order', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='orders.order')),
                    ],
                    options={
                        'db_table': 'orders_idempotencyrecord',
                        'constraints': [models.UniqueConstraint(fields=('channel', 'key'), name='idempotency_unique_channel_key')],
                    },
                ),
                migrations.CreateModel(
                    name='InboundRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('source', models.CharField(choices=[('api', 'JSON API'), ('shopify', 'Shopify webhook'), ('woocommerce', 'WooCommerce webhook'), ('csv', 'CSV import')], max_length=12)),
                        ('delivery_id', models.CharField(blank=True, help_text="The platform's delivery id, idempotency key or CSV order id.", max_length=255)),
                        ('topic', models.CharField(blank=True, max_length=100)),
                        ('headers', models.JSONField(blank=True, default=dict)),
                        ('body', models.TextField(blank=True, help_text='The raw body as received (UTF-8).')),
                        ('outcome', models.CharField(choices=[('received', 'Received'), ('captured', 'Order captured'), ('held', 'Order captured on hold'), ('duplicate', 'Already captured (replay)'), ('cancelled', 'Order cancelled'), ('ignored', 'Acknowledged, nothing to do'), ('invalid', 'Invalid data (rejected)'), ('rejected', 'Bad key or signature'), ('failed', 'Failed: needs staff')], default='received', max_length=12)),
                        ('response_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('error', models.TextField(blank=True)),
                        ('attempts', models.PositiveIntegerField(default=1)),
                        ('processed_at', models.DateTimeField(blank=True, null=True)),
                        ('channel', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='inbound_requests', to='orders.channel')),
                        ('import_batch', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='inbound_requests', to='intake.importbatch')),
                        ('order', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='inbound_requests', to='orders.order')),
                    ],
                    options={
                        'db_table': 'orders_inboundrequest',
                        'ordering': ['-created_at', '-pk'],
                        'indexes': [models.Index(fields=['source', 'delivery_id'], name='orders_inbo_source_0fa78a_idx'), models.Index(fields=['outcome'], name='inbound_outcome_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='SkuMapping',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('external_key', models.CharField(help_text="The channel's SKU, or, when it sends none, the key shown in the hold: woo-<product or variation id> / shopify-<variant or product id>.", max_length=100)),
                        ('channel', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sku_mappings', to='orders.channel')),
                        ('product', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inventory.product')),
                    ],
                    options={
                        'verbose_name': 'SKU mapping',
                        'db_table': 'orders_skumapping',
                        'ordering': ['channel', 'external_key'],
                        'constraints': [models.UniqueConstraint(fields=('channel', 'external_key'), name='sku_mapping_unique_channel_key')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
