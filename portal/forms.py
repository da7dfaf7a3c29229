from django import forms

from returns.models import ReturnRequest
from support.models import Thread


class TrackLookupForm(forms.Form):
    number = forms.CharField(
        label="Order number",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "e.g. SO-7K2M9QXD", "autocapitalize": "characters"}
        ),
    )
    email = forms.EmailField(
        label="E-mail used for the order",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class MessageForm(forms.Form):
    topic = forms.ChoiceField(label="What is it about?", choices=Thread.Topic.choices)
    body = forms.CharField(
        label="Your message",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ReturnForm(forms.Form):
    """A quantity (and, for an exchange, a replacement) per returnable line, then the reason,
    a comment and the resolution the customer prefers."""

    reason = forms.ChoiceField(
        label="Why are you returning these items?", choices=ReturnRequest.Reason.choices
    )
    comment = forms.CharField(
        label="Anything we should know? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    resolution = forms.ChoiceField(
        label="What would you like?",
        choices=ReturnRequest.Resolution.choices,
        widget=forms.RadioSelect,
        initial=ReturnRequest.Resolution.REFUND,
    )

    def __init__(self, *args, returnable, exchange_options, **kwargs):
        super().__init__(*args, **kwargs)
        self.line_rows = []
        for info in returnable:
            line = info.order_line
            qty_name = f"qty_{line.pk}"
            self.fields[qty_name] = forms.TypedChoiceField(
                label=f"How many {line.name}?",
                choices=[(n, str(n)) for n in range(info.returnable + 1)],
                coerce=int,
                initial=0,
                required=False,
                empty_value=0,
            )
            exchange_name = ""
            options = exchange_options.get(line.product_id, [])
            if len(options) > 1:
                exchange_name = f"exchange_{line.pk}"
                self.fields[exchange_name] = forms.TypedChoiceField(
                    label=f"Exchange {line.name} for",
                    choices=[(p.pk, "The same item" if p.pk == line.product_id else p.name) for p in options],
                    coerce=int,
                    required=False,
                    empty_value=None,
                )
            self.line_rows.append((info, self[qty_name], self[exchange_name] if exchange_name else None))

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(f"qty_{info.order_line.pk}") for info, _, _ in self.line_rows):
            raise forms.ValidationError("Choose how many of at least one item you are returning.")
        return cleaned

    def quantities(self) -> dict[int, int]:
        return {
            info.order_line.pk: self.cleaned_data.get(f"qty_{info.order_line.pk}") or 0
            for info, _, _ in self.line_rows
        }

    def exchange_products(self) -> dict[int, int]:
        return {
            info.order_line.pk: self.cleaned_data[exchange.name]
            for info, _, exchange in self.line_rows
            if exchange is not None and self.cleaned_data.get(exchange.name)
        }
