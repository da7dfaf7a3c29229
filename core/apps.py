from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.core import checks
        from django.db.models.signals import post_migrate

        from .admin_extensions import check_admin_extensions
        from .roles import ensure_staff_groups

        post_migrate.connect(ensure_staff_groups, dispatch_uid="core.ensure_staff_groups")
        checks.register(check_admin_extensions, checks.Tags.admin)
