from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    name = "funnel.predictions"
    label = "predictions"
    verbose_name = "Predictive score"
    default_auto_field = "django.db.models.BigAutoField"
