from core.exceptions import DomainError


class OrderTransitionError(DomainError):
    """The order is not in a state that allows this."""

    def __init__(self, *, order, transition: str, detail: str = ""):
        self.order = order
        self.transition = transition
        label = transition.replace("_", " ")
        message = f"Order {order.number} is {order.get_status_display().lower()}: can't {label}."
        if detail:
            message += f" {detail}"
        super().__init__(message)


class CaptureError(DomainError):
    """The order data can't be captured."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class DuplicateOrder(DomainError):
    """This channel already has an order with that external id."""

    def __init__(self, order):
        self.order = order
        super().__init__(f"Already captured as {order.number}.")


class OrderNotEditable(DomainError):
    """The order can't be changed now (every item has left, or some are being picked)."""

    def __init__(self, *, order, detail: str):
        self.order = order
        super().__init__(f"Order {order.number} can't be changed: {detail}")


class EditInvalid(DomainError):
    """The edit asks for something the order can't become; `errors` per field."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
