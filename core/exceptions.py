class DomainError(Exception):
    """A business rule refused an operation; the message is fit to show to staff."""

    def __init__(self, message: str = ""):
        super().__init__(message or self.__doc__)
        self.message = message or (self.__doc__ or "").strip()

    def __str__(self) -> str:
        return self.message
