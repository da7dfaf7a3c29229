"""Declarative admin write permissions, and links offered only to users who may follow them.

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


class ViewerMixin:
    """For display methods that link to a page only some users may open ("Pack by scanning",
    "Inspect the items"): the object a change page shows carries `admin_viewer`, the user
    looking at it. It is set on the instance of this request, so no two requests share it.
    Such a method asks `viewer_may(obj, "app.permission")` before it offers the link."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.admin_viewer = request.user
        return obj


def viewer_may(obj, permission: str) -> bool:
    """Whether the user looking at `obj`'s change page has `permission` (no viewer: no)."""
    viewer = getattr(obj, "admin_viewer", None)
    return viewer is not None and viewer.has_perm(permission)
