from django.core.management.base import BaseCommand

from capture.forms.demo import seed_demo_forms
from capture.tracking.demo import seed_demo_tracking
from funnel.routing.demo import seed_demo_routing
from funnel.scoring.demo import seed_demo_scoring
from leadtrack.tenancy.demo import DEMO_PASSWORD, DEMO_PEOPLE, seed_demo_organizations
from leadtrack.tenancy.demo_data import DEMO_DATASETS, demo_data_seed
from referrals.demo import DEMO_PARTNERS, seed_demo_referrals


class Command(BaseCommand):
    help = "Seed the demo organizations (robotix, northwind), their people and their data. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args, **options):
        created = seed_demo_organizations()
        self.stdout.write(
            "Demo seeded: " + ", ".join(f"{count} {name} created" for name, count in created.items())
        )
        data = {dataset.slug: demo_data_seed(dataset=dataset) for dataset in DEMO_DATASETS}
        self.stdout.write(
            "Demo data: "
            + "; ".join(
                f"{slug} " + ", ".join(f"{count} {name}" for name, count in counts.items()) + " created"
                if any(counts.values())
                else f"{slug} already present"
                for slug, counts in data.items()
            )
        )
        # After the leads: the referral seed reuses the demo's referral sources.
        referrals = seed_demo_referrals()
        self.stdout.write(
            "Demo referrals: " + ", ".join(f"{n} {name}" for name, n in referrals.items()) + " created"
        )
        self.stdout.write(
            "Demo scoring: " + ", ".join(f"{n} {name}" for name, n in seed_demo_scoring().items())
        )
        self.stdout.write(f"Demo routing: {seed_demo_routing()}")
        self.stdout.write(f"Demo forms: {seed_demo_forms()} created")
        self.stdout.write(f"Demo tracking: {seed_demo_tracking()} page views written")
        if not options["quiet_logins"]:
            self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
            for person in DEMO_PEOPLE:
                roles = ", ".join(f"{role} @ {slug}" for slug, role in person.roles.items())
                self.stdout.write(f"  {person.email:<28} {roles}")
            for partner in DEMO_PARTNERS:
                self.stdout.write(f"  {partner.user_email:<28} partner @ robotix ({partner.name}, portal)")
