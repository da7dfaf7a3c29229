from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.contrib import admin
        from django.core import checks
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from . import checks as deploy_checks  # noqa: F401  (registers the deploy checks)
        from .admin_extensions import check_admin_extensions
        from .niceness import backend_nice_like_process
        from .queues import register_home_queues
        from .roles import ensure_staff_groups

        post_migrate.connect(ensure_staff_groups, dispatch_uid="core.ensure_staff_groups")
        connection_created.connect(backend_nice_like_process, dispatch_uid="core.backend_nice_like_process")
        checks.register(check_admin_extensions, checks.Tags.admin)
        # The admin index is each role's work queues (core.admin_home), then every model.
        admin.site.index_template = "admin/core/home.html"
        register_home_queues()
