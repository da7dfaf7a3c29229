"""Declarative admin write permissions, links offered only to users who may follow them, and
add or change pages that go back to where they were opened from.

Many of our admin pages are read-only by design (the ledger, events, refunds: they are written by
services, never by hand). Instead of overriding `has_*_permission` to return False in each one,
an admin says which writes it refuses; everything it allows still goes through Django's per-user
permission checks.
"""

from urllib.parse import urlencode

from django.contrib.admin.options import IS_POPUP_VAR
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


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


RETURN_TO = "return_to"


def return_to_url(url: str, back: str) -> str:
    """`url` (an add or change page) made to come back to `back` after saving."""
    return f"{url}{'&' if '?' in url else '?'}{urlencode({RETURN_TO: back})}"


class ReturnToMixin:
    """An add or change page opened from another page ("Map DISCONTINUED-1" on a held order)
    goes back there after "Save", when its link says where (`?return_to=`, made by
    return_to_url; only a path of this site is followed)."""

    def _return_to(self, request) -> str | None:
        url = request.GET.get(RETURN_TO, "")
        if "_continue" in request.POST or "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return None
        safe = url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        return url if url and safe else None

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        back = self._return_to(request)
        return HttpResponseRedirect(back) if back else response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        back = self._return_to(request)
        return HttpResponseRedirect(back) if back else response
