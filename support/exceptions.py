from core.exceptions import DomainError


class MessageRefused(DomainError):
    """That message can't be sent."""
