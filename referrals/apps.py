from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from leads.signals import lead_stage_changed
        from referrals.receivers import on_lead_stage_changed

        lead_stage_changed.connect(on_lead_stage_changed, dispatch_uid="referrals_lead_stage_changed")
