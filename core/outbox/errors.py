"""How a delivery attempt can end, other than delivered. Handlers raise these."""

from core.exceptions import DomainError


class DeliveryRetry(DomainError):
    """Try again later: the remote side is busy, throttling, down or unreachable.

    `after` (seconds) is the platform's own wait (Retry-After, a throttle's restore time); the
    outbox waits at least that long, else its own exponential backoff."""

    def __init__(self, message: str, *, after: float | None = None):
        super().__init__(message)
        self.after = after


class DeliveryFailed(DomainError):
    """The remote side refused the request itself (validation, `userErrors`): sending the same
    again can't succeed. The delivery is given up at once, with the platform's message."""


class DeliveryRevoked(DomainError):
    """The connection's credentials were refused (401/403): every delivery through it stops
    until staff reconnect it, instead of retrying forever."""
