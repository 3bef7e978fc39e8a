"""Keeps the cached report settings in step with their row."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from reports.models import ReportSettings
from reports.selectors import report_settings_forget


@receiver(post_save, sender=ReportSettings)
@receiver(post_delete, sender=ReportSettings)
def forget_report_settings(sender, instance, **kwargs) -> None:
    report_settings_forget(organization_id=instance.organization_id)
