from django.apps import AppConfig


class AttributionConfig(AppConfig):
    name = "reports.attribution"
    label = "attribution"
    verbose_name = "Attribution and web KPIs"
    default_auto_field = "django.db.models.BigAutoField"
