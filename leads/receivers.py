"""Keeps caches of lead rules in step with the rows they were read from."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from leads.models import CountryRegion, LeadSettings
from leads.rules import derivation_rules_forget


@receiver(post_save, sender=LeadSettings)
@receiver(post_delete, sender=LeadSettings)
@receiver(post_save, sender=CountryRegion)
@receiver(post_delete, sender=CountryRegion)
def forget_derivation_rules(sender, instance, **kwargs) -> None:
    derivation_rules_forget(organization_id=instance.organization_id)
