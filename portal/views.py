"""Customer pages: look up an order with its number and e-mail, or open it from a signed link;
from the order page, request a return and write to customer service.

No order data without a valid token or a matching lookup. Lookups are rate-limited per client
IP and per order number in the shared cache; a wrong number and a wrong e-mail get the same
answer. Every form is a POST with a CSRF token. Pages are never cached by browsers or proxies
(the order page's shared content is cached server-side, see pages.py) and get a strict CSP.
"""

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.csp import CSP
from django.views.decorators.cache import never_cache
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_http_methods

from core.exceptions import DomainError
from fulfillment.gateway.types import LABEL_CONTENT_TYPES
from fulfillment.models import TrackingEvent
from orders.links import order_number_from_token, order_tracking_token
from orders.selectors import order_get_for_tracking
from returns.models import ReturnLabel, ReturnRequest
from returns.selectors import product_list_exchange_options, return_list_returnable_lines
from returns.services import return_request_cancel, return_request_create
from support.services import support_message_post

from .forms import MessageForm, ReturnForm, TrackLookupForm
from .pages import message_rows, order_page_html
from .ratelimit import client_ip, rate_limit_hit, rate_limit_reached
from .selectors import order_list_thread_messages

NOT_FOUND = "We couldn't find an order with that number and e-mail address. Please check both and try again."
TOO_MANY = "Too many attempts. Please wait a few minutes and try again."
TOO_MANY_POSTS = "We have received a lot from you about this order; please wait a while before sending more."

# The portal needs no scripts, no inline styles and nothing from other origins.
PORTAL_CSP = {
    "default-src": [CSP.NONE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
}


def _with_retry_after(response, status: int, seconds: int):
    """A refused attempt (429) says when to try again: at the latest when its window ends."""
    if status == 429:
        response["Retry-After"] = str(seconds)
    return response


def _post_window() -> int:
    return settings.OMS["LOOKUP_LIMIT_WINDOW_SECONDS"] * 4


def _limits():
    oms = settings.OMS
    return oms["LOOKUP_LIMIT_PER_IP"], oms["LOOKUP_LIMIT_PER_ORDER"], oms["LOOKUP_LIMIT_WINDOW_SECONDS"]


def portal_view(view):
    """Never cached, strict CSP."""
    return never_cache(csp_override(PORTAL_CSP)(view))


def with_order(view):
    """Resolve the signed token in the URL to the order, or answer 404 with a friendly page
    (forged, expired, or for an order that no longer exists all look the same)."""

    @wraps(view)
    def wrapper(request, token, *args, **kwargs):
        number = order_number_from_token(token)
        order = order_get_for_tracking(number=number) if number else None
        if order is None:
            return render(request, "portal/expired.html", status=404)
        return view(request, order, token, *args, **kwargs)

    return wrapper


@portal_view
@require_http_methods(["GET", "POST"])
def track_lookup(request):
    form = TrackLookupForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST" and form.is_valid():
        per_ip, per_order, window = _limits()
        number = form.cleaned_data["number"].strip().upper()
        if rate_limit_hit(scope="ip", value=client_ip(request), limit=per_ip, window=window) or (
            rate_limit_reached(scope="order", value=number, limit=per_order)
        ):
            error, status = TOO_MANY, 429
        else:
            order = order_get_for_tracking(number=number, email=form.cleaned_data["email"])
            if order is not None:
                return redirect("portal:order", token=order_tracking_token(order_number=order.number))
            rate_limit_hit(scope="order", value=number, limit=per_order, window=window)
            error = NOT_FOUND
    response = render(request, "portal/lookup.html", {"form": form, "error": error}, status=status)
    return _with_retry_after(response, status, settings.OMS["LOOKUP_LIMIT_WINDOW_SECONDS"])


@portal_view
@require_http_methods(["GET"])
def order_page(request, token):
    """The order page. The token is checked on every request; the order's content comes from
    the shared cache (portal/pages.py), so a warm page costs no database query."""
    number = order_number_from_token(token)
    sent = request.GET.get("sent", "")
    html = order_page_html(request=request, number=number, token=token, sent=sent) if number else None
    if html is None:
        return render(request, "portal/expired.html", status=404)
    return HttpResponse(html)


def _posts_allowed(order) -> bool:
    limit = settings.OMS["CUSTOMER_POSTS_PER_ORDER"]
    return not rate_limit_hit(scope="post", value=order.number, limit=limit, window=_post_window())


@portal_view
@require_http_methods(["GET", "POST"])
@with_order
def message_post(request, order, token):
    """The customer's page for writing to customer service about an order: the thread so far
    and the form. Rendered fresh (it carries this visitor's CSRF token); a sent message leads
    back to the order page with a notice."""
    form = MessageForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        if not _posts_allowed(order):
            error, status = TOO_MANY_POSTS, 429
        else:
            try:
                support_message_post(
                    order_id=order.pk, body=form.cleaned_data["body"], topic=form.cleaned_data["topic"]
                )
            except DomainError as exc:
                error, status = str(exc), 400
            else:
                return redirect(reverse("portal:order", args=[token]) + "?sent=message#messages")
    elif request.method == "POST":
        status = 400
    context = {
        "number": order.number,
        "token": token,
        "message_form": form,
        "message_error": error,
        "thread_messages": message_rows(order_list_thread_messages(order=order)),
    }
    return _with_retry_after(
        render(request, "portal/messages.html", context, status=status), status, _post_window()
    )


@portal_view
@require_http_methods(["GET", "POST"])
@with_order
def return_new(request, order, token):
    returnable = return_list_returnable_lines(order=order)
    open_lines = [r for r in returnable if r.returnable]
    exchange_options = product_list_exchange_options(
        products=[r.order_line.product for r in open_lines if r.order_line.product]
    )
    form = ReturnForm(request.POST or None, returnable=open_lines, exchange_options=exchange_options)
    error, status = "", 200
    if request.method == "POST" and form.is_valid():
        if not _posts_allowed(order):
            error, status = TOO_MANY_POSTS, 429
        else:
            try:
                rr = return_request_create(
                    order_id=order.pk,
                    quantities=form.quantities(),
                    reason=form.cleaned_data["reason"],
                    comment=form.cleaned_data["comment"],
                    resolution=form.cleaned_data["resolution"],
                    exchange_products=form.exchange_products(),
                )
            except DomainError as exc:
                error, status = str(exc), 400
            else:
                done = reverse("portal:return_done", kwargs={"token": token, "number": rr.number})
                return redirect(f"{done}?new=1")
    elif request.method == "POST":
        status = 400
    context = {
        "order": order,
        "token": token,
        "form": form,
        "closed_lines": [r for r in returnable if not r.returnable],
        "error": error,
    }
    return _with_retry_after(
        render(request, "portal/return_new.html", context, status=status), status, _post_window()
    )


@portal_view
@require_http_methods(["GET"])
@with_order
def return_done(request, order, token, number):
    """A return's page: what happens next, and a button to cancel it until the parcel is in."""
    return _return_page(
        request, order, token, _order_return(order, number), just_requested=request.GET.get("new") == "1"
    )


@portal_view
@require_http_methods(["POST"])
@with_order
def return_cancel(request, order, token, number):
    """The customer changed their mind: cancel the return, which works until the parcel is in."""
    rr = _order_return(order, number)
    try:
        return_request_cancel(return_id=rr.pk)
    except DomainError:
        rr.refresh_from_db()
        error = "This return can't be cancelled any more: we have already received the parcel."
        return _return_page(request, order, token, rr, error=error, status=409)
    return redirect("portal:return_done", token=token, number=rr.number)


CUSTOMER_CANCELLABLE = (ReturnRequest.Status.REQUESTED, ReturnRequest.Status.APPROVED)


@portal_view
@require_http_methods(["GET"])
@with_order
def return_label(request, order, token, number):
    """The prepaid return label, to print (the same file as in the e-mail)."""
    rr = _order_return(order, number)
    label = rr.labels.filter(status=ReturnLabel.Status.BOUGHT).first()
    if label is None or not label.document:
        raise Http404("This return has no label to download.")
    response = HttpResponse(
        bytes(label.document),
        content_type=LABEL_CONTENT_TYPES.get(label.label_format, "application/octet-stream"),
    )
    response["Content-Disposition"] = f'attachment; filename="return-label-{rr.number}.{label.label_format}"'
    return response


def _return_page(request, order, token, rr, *, just_requested=False, error="", status=200):
    label = rr.labels.filter(status=ReturnLabel.Status.BOUGHT).first()
    context = {
        "label": label,
        "label_events": (
            list(
                TrackingEvent.objects.filter(tracking_number=label.tracking_number).order_by(
                    "-occurred_at", "-pk"
                )
            )
            if label
            else []
        ),
        "order": order,
        "token": token,
        "rr": rr,
        "just_requested": just_requested,
        "may_cancel": rr.status in CUSTOMER_CANCELLABLE,
        "error": error,
    }
    return render(request, "portal/return_done.html", context, status=status)


def _order_return(order, number):
    rr = order.returns.prefetch_related("lines__order_line").filter(number=number).first()
    if rr is None:
        raise Http404("No such return for this order.")
    return rr
