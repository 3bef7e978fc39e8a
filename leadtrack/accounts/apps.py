from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leadtrack.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from leadtrack.accounts import receivers  # noqa: F401
