from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from leadtrack.api.services import api_key_create
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization


class Command(BaseCommand):
    help = (
        "Create an API key for an organization. The key is printed once, alone on the last line: "
        "only its hash is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--scopes", default="read", help="comma-separated: read,write,admin,import")
        parser.add_argument("--name", required=True, help="what the key is for")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']!r}.")
        try:
            with tenant_context(organization):
                key, raw_key = api_key_create(
                    org=organization, actor=None, name=options["name"], scopes=options["scopes"].split(",")
                )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(
            f"Created API key {key.name!r} ({key.prefix}) for {organization.slug} with scopes "
            f"{','.join(key.scopes)}. Store it now; it cannot be shown again:"
        )
        self.stdout.write(raw_key)
