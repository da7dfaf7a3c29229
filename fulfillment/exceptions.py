from core.exceptions import DomainError


class ShipmentTransitionError(DomainError):
    """The shipment is not in a state that allows this."""

    def __init__(self, *, shipment, transition: str, detail: str = ""):
        self.shipment = shipment
        label = transition.replace("_", " ")
        message = f"Shipment {shipment.number} is {shipment.get_status_display().lower()}: can't {label}."
        super().__init__(f"{message} {detail}".strip())


class NothingToPick(DomainError):
    """No ready shipment matches these filters."""


class PackScanRefused(DomainError):
    """The scanned barcode can't be packed into this shipment."""


class WrongItemScanned(PackScanRefused):
    """The scanned item is not in this shipment."""


class TooManyScanned(PackScanRefused):
    """Every unit of this item is already packed."""


class ShipmentNotFound(DomainError):
    """No shipment has this number."""


class ServiceLevelOverrideRefused(DomainError):
    """The carrier service can't be changed."""


class TrackingChangeRefused(DomainError):
    """The shipment's tracking number can't be changed (not shipped yet, delivered, unchanged)."""
