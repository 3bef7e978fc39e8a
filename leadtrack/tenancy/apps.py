from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "leadtrack.tenancy"
    label = "tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from leadtrack.tenancy import db

        db.connect_signals()
