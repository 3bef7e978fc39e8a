from django.apps import AppConfig


class QuarterlyReportsConfig(AppConfig):
    name = "reports.quarterly"
    label = "quarterly_reports"
    verbose_name = "Quarterly referral report"
    default_auto_field = "django.db.models.BigAutoField"
