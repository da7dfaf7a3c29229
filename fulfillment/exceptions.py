from core.exceptions import DomainError


class ShipmentTransitionError(DomainError):
    """The shipment is not in a state that allows this."""

    def __init__(self, *, shipment, transition: str, detail: str = ""):
        self.shipment = shipment
        label = transition.replace("_", " ")
        message = f"Shipment {shipment.number} is {shipment.get_status_display().lower()}: can't {label}."
        super().__init__(f"{message} {detail}".strip())
