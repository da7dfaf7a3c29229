"""What each staff group may do in returns (gathered by core.roles). Returns: warehouse staff receive
and inspect them; customer service approve, refund and give store credit; managers read."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Warehouse staff": [
        "returns.view_returnrequest",
        "returns.change_returnrequest",
        "returns.view_returnline",
        "returns.change_returnline",
        "returns.view_returnlabel",
    ],
    "Customer service": [
        "returns.view_returnrequest",
        "returns.add_returnrequest",
        "returns.change_returnrequest",
        "returns.view_returnline",
        "returns.view_refund",
        "returns.add_refund",
        "returns.view_storecredit",
        "returns.add_storecredit",
        "returns.view_storecreditredemption",
        "returns.view_returnlabel",
    ],
    "Managers": [
        "returns.view_returnrequest",
        "returns.view_returnline",
        "returns.view_refund",
        "returns.view_storecredit",
        "returns.view_storecreditredemption",
        "returns.view_returnlabel",
    ],
}
