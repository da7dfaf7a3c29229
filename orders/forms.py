"""Forms for the staff phone/store order page."""

from decimal import Decimal

from django import forms
from django.contrib import admin

from inventory.admin import ProductAutocomplete
from inventory.models import Product

from .inputs import AddressInput, LineInput, OrderInput
from .models import Channel, Order, OrderLine

PAYMENT_METHODS = [
    ("card", "Card (taken on the phone)"),
    ("cash", "Cash (in store)"),
    ("cash_on_delivery", "Cash on delivery"),
    ("invoice", "Invoice"),
    ("bank_transfer", "Bank transfer"),
    ("store_credit", "Store credit (the code as the reference)"),
]


class PhoneOrderForm(forms.Form):
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.filter(kind__in=[Channel.Kind.PHONE, Channel.Kind.STORE], is_active=True),
        empty_label=None,
    )
    email = forms.EmailField(label="Customer e-mail")
    customer_name = forms.CharField(max_length=200)
    phone = forms.CharField(max_length=40, required=False)
    ship_name = forms.CharField(label="Ship to (name)", max_length=200, required=False)
    line1 = forms.CharField(label="Street", max_length=255)
    line2 = forms.CharField(label="Street (2)", max_length=255, required=False)
    city = forms.CharField(max_length=100)
    region = forms.CharField(label="Region / state", max_length=100, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    country = forms.RegexField(regex=r"^[A-Za-z]{2}$", max_length=2, help_text="ISO code, e.g. US, GB, DE")
    shipping_speed = forms.ChoiceField(choices=Order.ShippingSpeed.choices)
    shipping_total = forms.DecimalField(max_digits=10, decimal_places=2, min_value=0, initial=Decimal("0.00"))
    payment_method = forms.ChoiceField(choices=PAYMENT_METHODS)
    payment_status = forms.ChoiceField(choices=Order.PaymentStatus.choices[:3], initial="authorized")
    payment_reference = forms.CharField(
        max_length=100,
        required=False,
        help_text="Store credit: the customer's code (SC-…); the order total is taken from it.",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, first_channel: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if first_channel:
            # No phone or store channel yet: the order creates “Phone” (cleaned channel None).
            self.fields["channel"].required = False
            self.fields["channel"].empty_label = "Phone (created with this order)"


class PhoneOrderLineForm(forms.Form):
    # The admin's product search: SKU, name or barcode; each match shows its price and stock.
    product = forms.ModelChoiceField(
        queryset=Product.objects.all(),
        widget=ProductAutocomplete(
            OrderLine._meta.get_field("product"), admin.site, attrs={"style": "width: 28em"}
        ),
    )
    quantity = forms.IntegerField(min_value=1, max_value=100_000, initial=1)
    unit_price = forms.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False, help_text="Empty: list price"
    )

    def clean_product(self):
        product = self.cleaned_data["product"]
        if not product.is_active:
            raise forms.ValidationError(f"{product.sku} is inactive and can't be ordered.")
        return product


PhoneOrderLineFormSet = forms.formset_factory(PhoneOrderLineForm, extra=4, min_num=1, validate_min=True)


def phone_order_input(form: PhoneOrderForm, lines: PhoneOrderLineFormSet) -> OrderInput:
    d = form.cleaned_data
    return OrderInput(
        email=d["email"],
        customer_name=d["customer_name"],
        phone=d["phone"],
        shipping_address=AddressInput(
            name=d["ship_name"] or d["customer_name"],
            line1=d["line1"],
            line2=d["line2"],
            city=d["city"],
            region=d["region"],
            postal_code=d["postal_code"],
            country=d["country"].upper(),
            phone=d["phone"],
        ),
        shipping_speed=d["shipping_speed"],
        shipping_total=d["shipping_total"],
        lines=[
            LineInput(
                sku=ln["product"].sku,
                quantity=ln["quantity"],
                unit_price=ln["unit_price"] if ln.get("unit_price") is not None else ln["product"].price,
                name=ln["product"].name,
            )
            for ln in lines.cleaned_data
            if ln and not ln.get("DELETE")
        ],
        payment_method=d["payment_method"],
        payment_status=d["payment_status"],
        payment_reference=d["payment_reference"],
        notes=d["notes"],
    )
