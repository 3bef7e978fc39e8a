from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "leadtrack.audit"
    label = "audit"
    verbose_name = "Audit trail and request context"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from leadtrack.audit import receivers

        receivers.connect()
