from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "capture.tracking"
    label = "tracking"
    verbose_name = "Visit tracking"
    default_auto_field = "django.db.models.BigAutoField"
