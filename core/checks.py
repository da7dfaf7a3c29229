"""System checks for settings a production deployment must make."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_check(app_configs, **kwargs):
    """Links in e-mails and API replies are built on SITE_URL; unset, they lead to 127.0.0.1."""
    if getattr(settings, "SITE_URL_SET", True):
        return []
    return [
        Warning(
            f"SITE_URL is not set: links in e-mails and API replies point at {settings.SITE_URL}.",
            hint="Set SITE_URL to the address customers reach the app at, e.g. https://oms.example.com.",
            id="oms.W001",
        )
    ]
