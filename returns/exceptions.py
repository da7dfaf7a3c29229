from core.exceptions import DomainError


class ReturnTransitionError(DomainError):
    """The return is not in a state that allows this."""

    def __init__(self, *, return_request, transition: str):
        self.return_request = return_request
        super().__init__(
            f"Return {return_request.number} is {return_request.get_status_display().lower()}: "
            f"can't {transition.replace('_', ' ')}."
        )


class ReturnNotAllowed(DomainError):
    """These items can't be returned."""
