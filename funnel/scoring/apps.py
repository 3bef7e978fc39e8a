from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "funnel.scoring"
    label = "scoring"
    verbose_name = "Lead scoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from funnel.scoring import receivers

        receivers.connect()
