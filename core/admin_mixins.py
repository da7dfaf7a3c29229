"""Declarative admin write permissions.

Many of our admin pages are read-only by design (the ledger, events, refunds: they are written by
services, never by hand). Instead of overriding `has_*_permission` to return False in each one,
an admin says which writes it refuses; everything it allows still goes through Django's per-user
permission checks.
"""


class WritesMixin:
    """Set `allow_add`, `allow_change` or `allow_delete` to False to refuse that write."""

    allow_add = True
    allow_change = True
    allow_delete = True

    def has_add_permission(self, request, *args):
        return self.allow_add and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self.allow_change and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.allow_delete and super().has_delete_permission(request, obj)
