from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import DEFAULT_DB_ALIAS

from leadtrack.tenancy.db import ensure_app_role, owner_connection


class Command(MigrateCommand):
    """Django's migrate, run as the tables' owner rather than the application role."""

    def execute(self, *args, **options):
        # The system checks run before handle() and open a connection: as the application
        # role, which does not exist yet on a new server. So the whole command is the owner's.
        with owner_connection():
            ensure_app_role(options.get("database") or DEFAULT_DB_ALIAS)
            return super().execute(*args, **options)
