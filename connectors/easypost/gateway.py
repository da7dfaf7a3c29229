"""The EasyPost carrier gateway: fulfillment's CarrierGateway protocol through EasyPost's
official Python client (`easypost`), unchanged.

Configured by `EASYPOST_API_KEY` (test keys work the same way) and, for a stand-in server,
`EASYPOST_API_BASE` (the client's `api_base`, default https://api.easypost.com/v2). Without a
key it says it is not configured and fulfillment falls back to the manual gateway.

What EasyPost's answers need (tests/fixtures/shared/SOURCES.md, carriers/easypost):
- the rates of a shipment come in any order: the lowest is computed, never `rates[0]`;
- fees carry five decimals (`"1.24995"`): postage paid is their exact sum, rounded once;
- `status` stays "unknown" after a purchase: a purchase shows as a `postage_label`;
- errors are `{"error": {"code", "message", "errors": [{field, message, suggestion}]}}`;
- address verification answers inside an `{"address": ...}` envelope (the client unwraps it) or
  refuses with 422 `ADDRESS.VERIFY.FAILURE`.
Label files are fetched from the URL EasyPost gives, in the station's format (converted with
`GET /shipments/{id}/label` when the purchase gave another one).
"""

import datetime as dt
import logging
import math
from decimal import Decimal, InvalidOperation

import requests
from django.conf import settings

from fulfillment.gateway import (
    AddressCheck,
    CarrierRefused,
    CarrierUnavailable,
    Label,
    LabelFormat,
    Money,
    PostalAddress,
    Quote,
    Rate,
    ShipmentRequest,
    VoidResult,
)

logger = logging.getLogger(__name__)

GRAMS_PER_OUNCE = Decimal("28.349523125")
MM_PER_INCH = Decimal("25.4")
EASYPOST_FORMATS = {LabelFormat.PDF: "PDF", LabelFormat.ZPL: "ZPL", LabelFormat.PNG: "PNG"}
LABEL_URL_FIELDS = {
    LabelFormat.PDF: "label_pdf_url",
    LabelFormat.ZPL: "label_zpl_url",
    LabelFormat.PNG: "label_url",
}
# Statuses that say "the platform is busy or broken": the outcome of a purchase is unknown.
UNAVAILABLE_STATUSES = {408, 429, 500, 502, 503, 504}


def _up(value: Decimal) -> float:
    """EasyPost takes ounces and inches as numbers: rounded up to a tenth (never under-declare)."""
    return float(math.ceil(value * 10) / Decimal(10))


def _value(obj, key, default=None):
    """A field of an EasyPost object or dict (the client returns EasyPostObjects)."""
    if obj is None:
        return default
    getter = getattr(obj, "get", None)
    if getter is not None:
        try:
            value = getter(key, default)
        except (KeyError, AttributeError):
            value = default
        return default if value is None else value
    return getattr(obj, key, default)


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def easypost_address(address: PostalAddress) -> dict:
    data = {
        "name": address.name,
        "company": address.company,
        "street1": address.line1,
        "street2": address.line2,
        "city": address.city,
        "state": address.region,
        "zip": address.postal_code,
        "country": address.country,
        "phone": address.phone,
        "email": address.email,
    }
    return {k: v for k, v in data.items() if v}


def easypost_parcel(parcel) -> dict:
    data = {"weight": _up(Decimal(max(parcel.weight_grams, 1)) / GRAMS_PER_OUNCE)}
    if parcel.length_mm and parcel.width_mm and parcel.height_mm:
        data |= {
            "length": _up(Decimal(parcel.length_mm) / MM_PER_INCH),
            "width": _up(Decimal(parcel.width_mm) / MM_PER_INCH),
            "height": _up(Decimal(parcel.height_mm) / MM_PER_INCH),
        }
    return data


def _postal(address) -> PostalAddress:
    return PostalAddress(
        name=_value(address, "name", ""),
        company=_value(address, "company", ""),
        line1=_value(address, "street1", ""),
        line2=_value(address, "street2", ""),
        city=_value(address, "city", ""),
        region=_value(address, "state", ""),
        postal_code=_value(address, "zip", ""),
        country=_value(address, "country", ""),
    )


def _rate(rate) -> Rate | None:
    amount = _decimal(_value(rate, "rate"))
    if amount is None:
        return None
    delivery_date = _value(rate, "delivery_date")
    try:
        day = dt.date.fromisoformat(str(delivery_date)[:10]) if delivery_date else None
    except ValueError:
        day = None
    days = _value(rate, "delivery_days") or _value(rate, "est_delivery_days")
    return Rate(
        rate_id=_value(rate, "id", ""),
        carrier=_value(rate, "carrier", ""),
        service=_value(rate, "service", ""),
        price=Money(amount, _value(rate, "currency", "USD")),
        carrier_account=_value(rate, "carrier_account_id", ""),
        delivery_days=int(days) if isinstance(days, int | float) else None,
        delivery_date=day,
    )


def error_message(exc) -> str:
    """EasyPost's error as a sentence: its message and each field error (with the suggestion)."""
    parts = [getattr(exc, "message", "") or str(exc)]
    for err in getattr(exc, "errors", None) or []:
        if not isinstance(err, dict):
            continue
        text = " ".join(str(p) for p in [err.get("field"), err.get("message")] if p)
        if err.get("suggestion"):
            text += f" (suggested: {err['suggestion']})"
        if text:
            parts.append(text)
    return "; ".join(p for p in parts if p)


class EasyPostGateway:
    code = "easypost"
    name = "EasyPost"
    buys_labels = True
    verifies_addresses = True

    def __init__(self, client_factory=None, fetch=None):
        self._client_factory = client_factory
        self._fetch = fetch

    # --- plumbing ---------------------------------------------------------------------------
    def is_configured(self) -> bool:
        return bool(settings.EASYPOST_API_KEY)

    def client(self):
        import easypost

        if self._client_factory is not None:
            return self._client_factory()
        return easypost.EasyPostClient(
            settings.EASYPOST_API_KEY,
            api_base=settings.EASYPOST_API_BASE.rstrip("/"),
            timeout=settings.EASYPOST_TIMEOUT_SECONDS,
        )

    def _call(self, what: str, fn, *args, **kwargs):
        """Run one client call; EasyPost's errors become ours, with EasyPost's words."""
        from easypost.errors import ApiError, EasyPostError, HttpError, TimeoutError

        try:
            return fn(*args, **kwargs)
        except TimeoutError as exc:
            raise CarrierUnavailable(f"EasyPost did not answer in time ({what}).") from exc
        except HttpError as exc:
            raise CarrierUnavailable(f"Could not reach EasyPost ({what}): {exc}") from exc
        except ApiError as exc:
            status = getattr(exc, "http_status", None) or 0
            if status in UNAVAILABLE_STATUSES or status >= 500:
                raise CarrierUnavailable(f"EasyPost is unavailable ({what}, HTTP {status}).") from exc
            if status in (401, 403):
                raise CarrierRefused(
                    f"EasyPost refused our API key ({what}): {error_message(exc)}", code="AUTH"
                ) from exc
            raise CarrierRefused(
                f"EasyPost: {error_message(exc)}", code=getattr(exc, "code", "") or ""
            ) from exc
        except EasyPostError as exc:
            raise CarrierRefused(f"EasyPost: {exc}") from exc

    def _download(self, url: str) -> bytes:
        """The label file, or b"" when it can't be fetched now (the URL is kept to try again)."""
        if not url:
            return b""
        if self._fetch is not None:
            return self._fetch(url)
        try:
            response = requests.get(url, timeout=settings.EASYPOST_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            logger.warning("EasyPost label %s not fetched: %s", url, exc)
            return b""
        if response.status_code != 200:
            logger.warning("EasyPost label %s not fetched: HTTP %s", url, response.status_code)
            return b""
        return response.content

    # --- the protocol -----------------------------------------------------------------------
    def rates(self, *, request: ShipmentRequest) -> Quote:
        params = {
            "from_address": easypost_address(request.ship_from),
            "to_address": easypost_address(request.ship_to),
            "parcel": easypost_parcel(request.parcel),
            "reference": request.reference,
            "options": {
                "label_format": EASYPOST_FORMATS.get(request.label_format, "PDF"),
                "label_size": request.label_size,
                "currency": request.currency,
            },
        }
        if request.is_return:
            params["is_return"] = True
        if request.carrier_accounts:
            params["carrier_accounts"] = list(request.carrier_accounts)
        shipment = self._call("create shipment", self.client().shipment.create, **params)
        rates = tuple(r for r in (_rate(rate) for rate in _value(shipment, "rates", []) or []) if r)
        messages = tuple(
            f"{_value(m, 'carrier', '')}: {_value(m, 'message', '')}".strip(": ")
            for m in _value(shipment, "messages", []) or []
        )
        return Quote(reference=_value(shipment, "id", ""), rates=rates, messages=messages)

    def buy(self, *, quote_reference: str, rate: Rate, label_format: str) -> Label:
        client = self.client()
        shipment = self._call("buy", client.shipment.buy, quote_reference, rate={"id": rate.rate_id})
        label = self._label(client, shipment, label_format)
        if label is None:
            raise CarrierUnavailable("EasyPost answered the purchase without a label; look again shortly.")
        return label

    def label_get(self, *, quote_reference: str, label_format: str) -> Label | None:
        client = self.client()
        shipment = self._call("retrieve shipment", client.shipment.retrieve, quote_reference)
        return self._label(client, shipment, label_format)

    def _label(self, client, shipment, label_format: str) -> Label | None:
        """The bought label of an EasyPost shipment in `label_format`, or None if none was bought
        (EasyPost keeps `status` "unknown" after a purchase: the postage label says it)."""
        postage_label = _value(shipment, "postage_label")
        tracking = _value(shipment, "tracking_code", "")
        if not postage_label or not tracking:
            return None
        field = LABEL_URL_FIELDS.get(label_format, "label_url")
        url = _value(postage_label, field, "")
        if not url and label_format != LabelFormat.PNG:
            converted = self._call(
                "convert label",
                client.shipment.label,
                _value(shipment, "id"),
                file_format=EASYPOST_FORMATS[label_format],
            )
            url = _value(_value(converted, "postage_label"), field, "")
        if not url:
            label_format, url = LabelFormat.PNG, _value(postage_label, "label_url", "")
        selected = _value(shipment, "selected_rate")
        rate = _rate(selected) if selected else None
        currency = rate.price.currency if rate else "USD"
        charged = [
            _decimal(_value(fee, "amount"))
            for fee in _value(shipment, "fees", []) or []
            if _value(fee, "charged", False) and not _value(fee, "refunded", False)
        ]
        charged = [c for c in charged if c is not None]
        total = sum(charged, Decimal(0)) if charged else (rate.price.amount if rate else Decimal(0))
        tracker = _value(shipment, "tracker")
        return Label(
            reference=_value(shipment, "id", ""),
            tracking_number=tracking,
            carrier=rate.carrier if rate else "",
            service=rate.service if rate else "",
            carrier_account=rate.carrier_account if rate else "",
            postage=Money(total, currency),
            format=label_format,
            url=url,
            document=self._download(url),
            tracker_reference=_value(tracker, "id", "") if tracker else "",
        )

    def void(self, *, label_reference: str) -> VoidResult:
        shipment = self._call("refund", self.client().shipment.refund, label_reference)
        status = _value(shipment, "refund_status", "") or "submitted"
        return VoidResult(refund_status=status, message=f"EasyPost refund {status}.")

    def verify_address(self, *, address: PostalAddress) -> AddressCheck:
        from easypost.errors import InvalidRequestError

        client = self.client()
        try:
            verified = self._call(
                "verify address", client.address.create_and_verify, **easypost_address(address)
            )
        except CarrierRefused as exc:
            cause = exc.__cause__
            if not isinstance(cause, InvalidRequestError):
                raise
            return self._undeliverable(address, cause)
        delivery = _value(_value(verified, "verifications"), "delivery")
        if delivery is not None and not _value(delivery, "success", False):
            errors = _value(delivery, "errors", []) or []
            messages = tuple(_value(e, "message", "") for e in errors if _value(e, "message", ""))
            suggestion = _postal(verified)
            return AddressCheck(deliverable=False, messages=messages, suggestion=suggestion)
        suggestion = _postal(verified)
        return AddressCheck(
            deliverable=True, suggestion=suggestion, corrected_fields=tuple(address.differs_from(suggestion))
        )

    def _undeliverable(self, address: PostalAddress, exc) -> AddressCheck:
        """A 422 ADDRESS.VERIFY.FAILURE: EasyPost's reasons, and its suggestion when a field
        error carries one (applied to our address)."""
        fields = {
            "street1": "line1",
            "street2": "line2",
            "city": "city",
            "state": "region",
            "zip": "postal_code",
        }
        messages, changes = [], {}
        for err in getattr(exc, "errors", None) or []:
            if not isinstance(err, dict):
                continue
            if err.get("message"):
                messages.append(str(err["message"]))
            ours = fields.get(str(err.get("field", "")))
            if ours and isinstance(err.get("suggestion"), str) and err["suggestion"].strip():
                changes[ours] = err["suggestion"].strip()
        if not messages:
            messages.append(getattr(exc, "message", "") or "Unable to verify address.")
        suggestion = None
        if changes:
            data = {name: getattr(address, name) for name in PostalAddress.__dataclass_fields__}
            suggestion = PostalAddress(**{**data, **changes})
        return AddressCheck(deliverable=False, messages=tuple(messages), suggestion=suggestion)
