"""Keeps caches of lead rules and filter options in step with the rows they were read from."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from leads.filters import filter_options_forget
from leads.models import Campaign, CountryRegion, Industry, LeadSettings, Source
from leads.rules import derivation_rules_forget
from leadtrack.tenancy.models import Membership


@receiver(post_save, sender=LeadSettings)
@receiver(post_delete, sender=LeadSettings)
@receiver(post_save, sender=CountryRegion)
@receiver(post_delete, sender=CountryRegion)
def forget_derivation_rules(sender, instance, **kwargs) -> None:
    derivation_rules_forget(organization_id=instance.organization_id)


@receiver(post_save, sender=Source)
@receiver(post_delete, sender=Source)
@receiver(post_save, sender=Campaign)
@receiver(post_delete, sender=Campaign)
@receiver(post_save, sender=Industry)
@receiver(post_delete, sender=Industry)
@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def forget_filter_options(sender, instance, **kwargs) -> None:
    # The owner options also show members' names: a name is set at sign-up, when no membership
    # lists it yet (joining saves a Membership); no page renames a person.
    filter_options_forget(organization_id=instance.organization_id)
