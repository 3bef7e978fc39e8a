from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from leadtrack.privacy.services import subject_erase
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization


class Command(BaseCommand):
    help = (
        "Erase one e-mail address from an organization (GDPR Art. 17): leads anonymised, history, "
        "activities, referrals, payloads and import files scrubbed; logged without personal data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--email", required=True, help="the person's e-mail address")
        parser.add_argument("--yes", action="store_true", help="confirm: the erasure cannot be undone")

    def handle(self, *args, **options):
        if not options["yes"]:
            raise CommandError("Erasure cannot be undone: run again with --yes to confirm.")
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']!r}.")
        try:
            with tenant_context(organization):
                erasure = subject_erase(org=organization, actor=None, email=options["email"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        changed = ", ".join(f"{key}={count}" for key, count in erasure.counts.items() if count) or "nothing"
        self.stdout.write(f"Erasure {erasure.pk}: {erasure.lead_count} lead(s); rows changed: {changed}.")
