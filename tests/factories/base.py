"""What the factories of several apps share."""


def create_with_status(model_class, kwargs):
    """Create a row of a state-machine model in any state: the protected FSM field is set before
    the first save, the only moment it may be."""
    status = kwargs.pop("status", None)
    obj = model_class(**kwargs)
    if status:
        obj.__dict__["status"] = status  # protected FSM field: set before first save only
    obj.save()
    return obj
