import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from leadtrack.privacy.services import subject_export
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization


class Command(BaseCommand):
    help = "Write everything an organization holds about one e-mail address as JSON (GDPR Art. 15/20)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--email", required=True, help="the person's e-mail address")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']!r}.")
        try:
            with tenant_context(organization):
                document = subject_export(org=organization, email=options["email"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        text = json.dumps(document, indent=2, ensure_ascii=False)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(f"{document['total_records']} records written to {options['output']}.")
        else:
            self.stdout.write(text)
