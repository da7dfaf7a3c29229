"""How a gateway call can fail, whatever the platform."""

from core.exceptions import DomainError


class CarrierError(DomainError):
    """A carrier call did not do what was asked."""


class CarrierUnavailable(CarrierError):
    """The platform did not answer (time-out, connection refused, 5xx, throttled). For a
    purchase the outcome is unknown: it may have been bought. Trying again later may work."""


class CarrierRefused(CarrierError):
    """The platform answered and said no (no rate, invalid address, refused purchase, bad
    credentials), with its reason. Sending the same again won't help."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code
