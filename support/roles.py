"""What each staff group may do in support (gathered by core.roles). Customer messages: customer
service answer them; managers read."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Customer service": [
        "support.view_thread",
        "support.change_thread",
        "support.view_message",
        "support.add_message",
    ],
    "Managers": [
        "support.view_thread",
        "support.view_message",
    ],
}
