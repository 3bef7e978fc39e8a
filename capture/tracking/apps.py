from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "capture.tracking"
    label = "tracking"
    verbose_name = "Visit tracking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from capture.signals import visitor_identified
        from capture.tracking.services import visitor_identified_receiver

        visitor_identified.connect(visitor_identified_receiver, dispatch_uid="tracking_visitor_identified")
