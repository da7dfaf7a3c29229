"""What each staff group may do in returns (gathered by core.roles). Returns: warehouse staff receive
the parcels and inspect them; customer service approve or reject, and resolve (refund, store credit,
exchange); managers read. The three steps are the model's own permissions (ReturnRequest.Meta)."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Warehouse staff": [
        "returns.view_returnrequest",
        "returns.receive_returnrequest",
        "returns.view_returnline",
        "returns.view_returnlabel",
    ],
    "Customer service": [
        "returns.view_returnrequest",
        "returns.decide_returnrequest",
        "returns.resolve_returnrequest",
        "returns.view_returnline",
        "returns.view_refund",
        "returns.view_storecredit",
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
