from django.apps import AppConfig


class WebFormsConfig(AppConfig):
    name = "capture.forms"
    label = "webforms"
    verbose_name = "Web forms"
    default_auto_field = "django.db.models.BigAutoField"
