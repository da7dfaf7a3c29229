"""What each staff group may do in intake (gathered by core.roles). How orders arrive: customer
service fix what the channels sent (map unknown SKUs, re-process inbound requests, upload
marketplace files); managers keep the channels' API keys and SKU mappings and read the rest."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Customer service": [
        "intake.view_inboundrequest",
        "intake.change_inboundrequest",  # re-process
        "intake.view_skumapping",
        "intake.add_skumapping",
        "intake.change_skumapping",
        "intake.view_importbatch",
        "intake.add_importbatch",
    ],
    "Managers": [
        "intake.view_inboundrequest",
        "intake.view_skumapping",
        "intake.add_skumapping",
        "intake.change_skumapping",
        "intake.view_importbatch",
        "intake.view_channelapikey",
        "intake.add_channelapikey",
        "intake.change_channelapikey",
    ],
}
