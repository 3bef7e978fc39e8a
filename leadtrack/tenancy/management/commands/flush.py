from django.core.management.commands.flush import Command as FlushCommand

from leadtrack.tenancy.db import owner_connection


class Command(FlushCommand):
    """Django's flush (TRUNCATE), run as the tables' owner: the app role may not truncate."""

    def handle(self, *args, **options):
        with owner_connection():
            return super().handle(*args, **options)
