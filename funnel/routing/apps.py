from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "funnel.routing"
    label = "routing"
    verbose_name = "Lead routing and first-contact SLA"
    default_auto_field = "django.db.models.BigAutoField"
