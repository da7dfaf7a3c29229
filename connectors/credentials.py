"""Credentials stored encrypted at rest: a model field that encrypts on save and decrypts on read.

The key comes from the environment (`OMS_CREDENTIALS_KEY`, a Fernet key; several comma-separated
keys rotate: the first encrypts, any decrypts). Without a key nothing can be saved encrypted, and
the app still runs: connections just stay "not connected".
"""

import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

logger = logging.getLogger(__name__)
PREFIX = "fernet:"


class CredentialsKeyMissing(ImproperlyConfigured):
    """OMS_CREDENTIALS_KEY is not set (or is not a Fernet key): credentials can't be stored."""


def credentials_cipher() -> MultiFernet:
    """The Fernet keys of OMS_CREDENTIALS_KEY. Raises CredentialsKeyMissing when unset or invalid."""
    keys = [k.strip() for k in (settings.OMS_CREDENTIALS_KEY or "").split(",") if k.strip()]
    if not keys:
        raise CredentialsKeyMissing(
            "OMS_CREDENTIALS_KEY is not set, so credentials can't be stored encrypted. Generate one with "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.'
        )
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as exc:
        raise CredentialsKeyMissing(f"OMS_CREDENTIALS_KEY is not a valid Fernet key: {exc}.") from None


def credentials_key_ready() -> bool:
    try:
        credentials_cipher()
    except CredentialsKeyMissing:
        return False
    return True


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token (`fernet:` + token); Python code only sees the plain text.

    An empty value is stored empty (no key needed). A token no configured key can open reads as
    empty, with a warning in the log: the connection then shows as not connected, rather than
    every page that lists it failing.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        if not value.startswith(PREFIX):
            return value
        try:
            return credentials_cipher().decrypt(value[len(PREFIX) :].encode()).decode()
        except (CredentialsKeyMissing, InvalidToken):
            logger.warning("A stored credential can't be decrypted with OMS_CREDENTIALS_KEY: read as empty.")
            return ""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return ""
        return PREFIX + credentials_cipher().encrypt(value.encode()).decode()
