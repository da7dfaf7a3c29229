"""Customer pages: look up an order with its number and e-mail, or open it from a signed link."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from orders.links import order_number_from_token, order_tracking_token
from orders.selectors import order_get_for_tracking

from .forms import TrackLookupForm
from .selectors import order_get_page

NOT_FOUND = "We couldn't find an order with that number and e-mail address. Please check both and try again."


@never_cache
@require_http_methods(["GET", "POST"])
def track_lookup(request):
    form = TrackLookupForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        order = order_get_for_tracking(number=form.cleaned_data["number"], email=form.cleaned_data["email"])
        if order is not None:
            return redirect("portal:order", token=order_tracking_token(order_number=order.number))
        error = NOT_FOUND
    return render(request, "portal/lookup.html", {"form": form, "error": error})


@never_cache
def order_page(request, token):
    number = order_number_from_token(token)
    order = order_get_for_tracking(number=number) if number else None
    if order is None:
        raise Http404("This link is not valid or has expired.")
    context = order_get_page(order=order)
    context["token"] = token
    return render(request, "portal/order.html", context)
