from django.core.management.base import BaseCommand

from intake.keys import channel_api_key_create, channel_api_key_rotate
from orders.models import Channel


class Command(BaseCommand):
    help = "Create an API key for a channel (created if missing) and print it: it is shown only once."

    def add_arguments(self, parser):
        parser.add_argument("channel", help="channel code")
        parser.add_argument("--name", default="", help="where the key is used")
        parser.add_argument("--kind", default=Channel.Kind.WEB, choices=Channel.Kind.values)
        parser.add_argument("--rotate", action="store_true", help="revoke the channel's other keys")

    def handle(self, *args, **options):
        code = options["channel"]
        channel, created = Channel.objects.get_or_create(
            code=code, defaults={"name": code.replace("-", " ").title(), "kind": options["kind"]}
        )
        create = channel_api_key_rotate if options["rotate"] else channel_api_key_create
        _, plain = create(channel=channel, name=options["name"])
        if created:
            self.stderr.write(f"Created channel {channel.code} ({channel.get_kind_display()}).")
        self.stderr.write("Store this key now; it can't be shown again:")
        self.stdout.write(plain)
