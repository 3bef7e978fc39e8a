from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "leadtrack.privacy"
    label = "privacy"
    verbose_name = "Privacy (GDPR data-subject rights)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from leadtrack.privacy import registry

        registry.autodiscover()
