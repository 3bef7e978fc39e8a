from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "leadtrack.api"
    label = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from leadtrack.api import receivers

        receivers.connect()
