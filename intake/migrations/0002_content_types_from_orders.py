# The content types of the models that moved from orders (0001) take the app label `intake`, so
# their permissions ("intake.change_inboundrequest"), the groups and users holding them and the
# admin's history follow the models. Runs again without harm; reverses to `orders`.

from django.db import migrations

MODELS = ["channelapikey", "idempotencyrecord", "importbatch", "inboundrequest", "skumapping"]


def content_types_move(apps, schema_editor, *, source, target):
    """Relabel the moved models' content types from `source` to `target`.

    A model whose content type already has the target label (and none with the source label) is
    left alone. When it has both (code running against the new labels created one before this
    migration ran), the rows that point at the source one are handed to the target one: its
    permissions, or their group and user grants when the target has the same permission, and the
    admin's log entries; then the source one is deleted.
    """
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    db = schema_editor.connection.alias
    for model in MODELS:
        old = ContentType.objects.using(db).filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.using(db).filter(app_label=target, model=model).first()
        if new is None:
            ContentType.objects.using(db).filter(pk=old.pk).update(app_label=target)
            continue
        for permission in Permission.objects.using(db).filter(content_type=old):
            twin = Permission.objects.using(db).filter(content_type=new, codename=permission.codename).first()
            if twin is None:
                Permission.objects.using(db).filter(pk=permission.pk).update(content_type=new)
                continue
            twin.group_set.add(*permission.group_set.all())
            twin.user_set.add(*permission.user_set.all())
            permission.delete()
        LogEntry.objects.using(db).filter(content_type=old).update(content_type=new)
        old.delete()


def forwards(apps, schema_editor):
    content_types_move(apps, schema_editor, source="orders", target="intake")


def backwards(apps, schema_editor):
    content_types_move(apps, schema_editor, source="intake", target="orders")


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('admin', '0003_logentry_add_action_flag_choices'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
