from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "funnel.routing"
    label = "routing"
    verbose_name = "Lead routing and first-contact SLA"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from funnel.routing.receivers import on_lead_scored
        from leads.signals import lead_scored

        lead_scored.connect(on_lead_scored, dispatch_uid="routing_lead_scored")
