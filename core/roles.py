"""The three staff groups and what each may do in the admin.

Each app says what its staff groups need in its own `roles.py`:

    ROLE_PERMISSIONS = {"Warehouse staff": ["inventory.view_product", ...], "Managers": [...]}

with permissions named "app_label.codename". Core gathers them from every installed app (it
imports no app by name), this module's own included, and the groups are brought up to date after
every `migrate`.
"""

from collections import defaultdict
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

STAFF_GROUPS = ("Warehouse staff", "Customer service", "Managers")

# Core's own: the delivery log (admin › Deliveries). Customer service watch what failed to reach a
# channel or subscriber and send it again; managers read it.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Customer service": [
        "core.view_delivery",
        "core.change_delivery",  # "Send again"
        "core.view_deliveryattempt",
    ],
    "Managers": [
        "core.view_delivery",
        "core.view_deliveryattempt",
    ],
}


def role_permissions() -> dict[str, list[str]]:
    """Every installed app's `roles.ROLE_PERMISSIONS`, per group, sorted. Raises
    ImproperlyConfigured for a group that isn't one of STAFF_GROUPS (a typo would make a new one)."""
    gathered: dict[str, set[str]] = defaultdict(set)
    for config in apps.get_app_configs():
        name = f"{config.name}.roles"
        try:
            found = find_spec(name) is not None
        except ModuleNotFoundError:  # an app that is a module, not a package
            found = False
        if not found:
            continue
        declared = getattr(import_module(name), "ROLE_PERMISSIONS", {})
        for group, permissions in declared.items():
            if group not in STAFF_GROUPS:
                raise ImproperlyConfigured(
                    f"{name}: “{group}” is not a staff group ({', '.join(STAFF_GROUPS)})."
                )
            gathered[group].update(permissions)
    return {group: sorted(gathered[group]) for group in STAFF_GROUPS}


def ensure_staff_groups(sender=None, **kwargs):
    """Create or update the staff groups; unknown permission names are skipped, not fatal."""
    from django.contrib.auth.models import Group, Permission

    for group_name, perm_names in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = {tuple(name.split(".")) for name in perm_names}
        perms = Permission.objects.filter(
            content_type__app_label__in={a for a, _ in wanted},
            codename__in={c for _, c in wanted},
        ).select_related("content_type")
        group.permissions.set([p for p in perms if (p.content_type.app_label, p.codename) in wanted])
