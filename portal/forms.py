from django import forms


class TrackLookupForm(forms.Form):
    number = forms.CharField(
        label="Order number",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "SO-XXXXXXXX", "autofocus": True}
        ),
    )
    email = forms.EmailField(
        label="E-mail used for the order",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
