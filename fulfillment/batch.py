"""A pick list's labels at once: buy every packed shipment's label, print them as one document.

EasyPost has batches, but a batch buys asynchronously: `POST /batches/{id}/buy` answers
`state: "created"` with the shipments `queued_for_purchase` and no tracking numbers, and its
merged label is generated later still (`label_url: null`, "label_generating"; SOURCES.md,
easypost batch cassettes). The packer at the desk needs the labels now, and the one-label path
already guarantees a retry never buys twice. So the list's labels are bought one by one through
that path (a failure stops nothing but its own shipment), and the documents are merged here: ZPL
is a stream of labels (concatenated), PDFs are merged page by page (pypdf), PNG labels go one per
printed page on a single sheet.
"""

import io
from dataclasses import dataclass, field

from core.exceptions import DomainError

from .gateway import carrier_gateway_for
from .gateway.types import LabelFormat
from .labels import shipment_label_buy
from .models import LabelRecord, PackingStation, PickList, Shipment, ShippingLabel


@dataclass
class BatchResult:
    bought: list[ShippingLabel] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (shipment number, why)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def pick_list_labels_buy(
    *, pick_list_id: int, station: PackingStation | None = None, actor=None
) -> BatchResult:
    """Buy the label of each packed shipment on the pick list that has none (in shipment order).

    Each purchase is shipment_label_buy (its own locks and steps; a label already bought is not
    bought again). Shipments not packed yet, or whose carrier labels are not bought here, are
    skipped with the reason; a refused purchase is reported and the rest go on.
    """
    result = BatchResult()
    shipments = Shipment.objects.filter(pick_list_id=pick_list_id).select_related("service_level__carrier")
    for shipment in shipments.order_by("number"):
        if shipment.status != Shipment.Status.PACKED:
            result.skipped.append((shipment.number, f"{shipment.get_status_display().lower()}, not packed"))
            continue
        if not carrier_gateway_for(shipment.carrier).buys_labels:
            result.skipped.append((shipment.number, "its carrier's tracking number is typed when shipping"))
            continue
        try:
            result.bought.append(
                shipment_label_buy(shipment_id=shipment.pk, station=station, actor=actor).label
            )
        except DomainError as exc:
            result.failed.append((shipment.number, str(exc)))
    return result


def pick_list_labels(*, pick_list: PickList, label_format: str) -> list[ShippingLabel]:
    return list(
        ShippingLabel.objects.filter(
            shipment__pick_list=pick_list, status=LabelRecord.Status.BOUGHT, label_format=label_format
        )
        .select_related("shipment")
        .order_by("shipment__number")
    )


def pick_list_labels_document(*, pick_list: PickList, label_format: str):
    """One printable document of the list's bought labels in `label_format`: ZPL or PDF bytes,
    or for PNG the labels themselves (the sheet template puts one per page). None if none."""
    labels = pick_list_labels(pick_list=pick_list, label_format=label_format)
    if not labels:
        return None
    if label_format == LabelFormat.PNG:
        return labels
    if label_format == LabelFormat.ZPL:
        return b"".join(bytes(lb.document).rstrip(b"\r\n") + b"\n" for lb in labels if lb.document)
    from pypdf import PdfWriter

    writer = PdfWriter()
    for label in labels:
        if label.document:
            writer.append(io.BytesIO(bytes(label.document)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
