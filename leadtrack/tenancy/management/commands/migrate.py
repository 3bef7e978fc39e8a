from django.core.management.commands.migrate import Command as MigrateCommand

from leadtrack.tenancy.db import ensure_app_role, owner_connection


class Command(MigrateCommand):
    """Django's migrate, run as the tables' owner rather than the application role."""

    def handle(self, *args, **options):
        with owner_connection():
            ensure_app_role(options["database"])
            return super().handle(*args, **options)
