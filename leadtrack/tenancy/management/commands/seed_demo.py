from django.core.management.base import BaseCommand

from leadtrack.tenancy.demo import DEMO_PASSWORD, DEMO_PEOPLE, seed_demo_organizations


class Command(BaseCommand):
    help = "Seed the demo organizations (robotix, northwind) and their people. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args, **options):
        created = seed_demo_organizations()
        self.stdout.write(
            "Demo seeded: " + ", ".join(f"{count} {name} created" for name, count in created.items())
        )
        if not options["quiet_logins"]:
            self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
            for person in DEMO_PEOPLE:
                roles = ", ".join(f"{role} @ {slug}" for slug, role in person.roles.items())
                self.stdout.write(f"  {person.email:<28} {roles}")
