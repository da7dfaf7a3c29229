"""A deployment check: channel credentials need OMS_CREDENTIALS_KEY."""

from django.core.checks import Tags, Warning, register

from .credentials import credentials_key_ready


@register(Tags.security, deploy=True)
def credentials_key_check(app_configs, **kwargs):
    if credentials_key_ready():
        return []
    return [
        Warning(
            "OMS_CREDENTIALS_KEY is not set (or not a Fernet key): no channel can be connected, "
            "because Shopify tokens and WooCommerce keys are stored encrypted with it.",
            hint='Generate one: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())", and keep it as secret as SECRET_KEY.',
            id="oms.W010",
        )
    ]
