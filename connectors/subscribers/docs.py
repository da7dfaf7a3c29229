"""docs/webhooks.md's generated part: the event types and their JSON Schemas, from payloads.py.

`manage.py webhooks_docs --write` rewrites the part between the markers; a test fails while the
file differs from the models.
"""

import json
from pathlib import Path

from django.conf import settings

from .payloads import EVENTS, event_schema, event_type_of, event_version_of

DOC_PATH = Path(settings.BASE_DIR) / "docs" / "webhooks.md"
START = "<!-- generated from connectors/subscribers/payloads.py: manage.py webhooks_docs --write -->"
END = "<!-- end of generated part -->"


def _summary(model) -> str:
    return " ".join((model.__doc__ or "").split())


def generated_markdown() -> str:
    """The event table and one JSON Schema per event type, as Markdown."""
    parts = [
        "| type | version | sent when |",
        "|---|---|---|",
        *(f"| `{event_type_of(m)}` | {event_version_of(m)} | {_summary(m)} |" for m in EVENTS),
        "",
    ]
    for model in EVENTS:
        parts += [
            f"### `{event_type_of(model)}` (version {event_version_of(model)})",
            "",
            _summary(model),
            "",
            "```json",
            json.dumps(event_schema(model), indent=2, ensure_ascii=False),
            "```",
            "",
        ]
    return "\n".join(parts)


def document_with_generated(text: str) -> str:
    """`text` with the part between the markers replaced by what the models say now."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n\n{generated_markdown()}\n{END}{tail}"
