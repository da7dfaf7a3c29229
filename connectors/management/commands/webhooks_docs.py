"""Regenerate the event types and JSON Schemas in docs/webhooks.md from the payload models."""

from django.core.management.base import BaseCommand, CommandError

from connectors.subscribers.docs import DOC_PATH, document_with_generated


class Command(BaseCommand):
    help = "Write (--write) or check (default) docs/webhooks.md's generated part against the payload models."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="Rewrite the file's generated part.")

    def handle(self, *args, write: bool = False, **options):
        text = DOC_PATH.read_text(encoding="utf-8")
        wanted = document_with_generated(text)
        if wanted == text:
            self.stdout.write(f"{DOC_PATH.name} matches the payload models.")
        elif write:
            DOC_PATH.write_text(wanted, encoding="utf-8")
            self.stdout.write(f"{DOC_PATH.name} rewritten from the payload models.")
        else:
            raise CommandError(f"{DOC_PATH.name} differs from the payload models: run webhooks_docs --write.")
