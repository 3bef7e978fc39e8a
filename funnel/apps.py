from django.apps import AppConfig


class FunnelConfig(AppConfig):
    name = "funnel"
    default_auto_field = "django.db.models.BigAutoField"
