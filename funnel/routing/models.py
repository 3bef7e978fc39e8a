"""Routing rules, teams with round robin, the first-contact SLA policy, each lead's routing record,
and in-app notifications (SLA reminders).

Rules are ordered per organization; the first rule whose conditions all hold acts. An empty
condition holds for every lead. Business logic lives in ``services.py``.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from leads.models import Lead
from leadtrack.tenancy.models import TenantModel


class RoutingTeam(TenantModel):
    """A group of reps that a rule round-robins across.

    The team row is also the round-robin pointer: the routing service locks it
    (SELECT … FOR UPDATE) so that two concurrent leads never take the same turn.
    """

    name = models.CharField(max_length=100)
    # The member who took the last turn; the next turn goes to the next eligible member after it.
    last_member = models.ForeignKey(
        "TeamMember", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint("organization", Lower("name"), name="routing_team_name")]

    def __str__(self) -> str:
        return self.name


class TeamMember(TenantModel):
    team = models.ForeignKey(RoutingTeam, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Open leads (not closed, not deleted) the rep may hold before round robin skips them; blank = no cap.
    max_open_leads = models.PositiveIntegerField(null=True, blank=True)
    is_absent = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "team", "user"], name="team_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team_id}"


class RuleAction(models.TextChoices):
    USER = "user", "Assign to a person"
    TEAM = "team", "Round robin across a team"


class RoutingRule(TenantModel):
    """One ordered assignment rule. Conditions are sets: the lead's value must be one of them."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    regions = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    segments = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    # Ids of the organization's industries and sources (a deleted one simply never matches).
    industry_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    source_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    min_score = models.IntegerField(null=True, blank=True)
    action = models.CharField(max_length=10, choices=RuleAction.choices, default=RuleAction.TEAM)
    assign_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        RoutingTeam, on_delete=models.PROTECT, null=True, blank=True, related_name="rules"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(action="user") & Q(assign_to__isnull=False) & Q(team__isnull=True))
                | (Q(action="team") & Q(team__isnull=False) & Q(assign_to__isnull=True)),
                name="routing_rule_action_target",
            )
        ]
        indexes = [models.Index(fields=["organization", "position"], name="routing_rule_org_pos_idx")]

    def __str__(self) -> str:
        return self.name


def _default_working_days() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday … Friday (datetime.weekday())


class SlaPolicy(TenantModel):
    """The organization's first-contact SLA, counted in working minutes in its time zone."""

    first_contact_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(10_000)]
    )
    workday_start = models.TimeField(default=datetime.time(9, 0))
    workday_end = models.TimeField(default=datetime.time(17, 0))
    working_days = ArrayField(models.PositiveSmallIntegerField(), default=_default_working_days)
    # "About to breach": the queue shows leads this many minutes before their deadline.
    warning_minutes = models.PositiveIntegerField(default=15, validators=[MaxValueValidator(1440)])
    reassign_when_missed = models.BooleanField(default=False)
    # The second period: working minutes after the deadline before the lead is reassigned.
    reassign_after_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(10_000)]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="sla_policy_one_per_org"),
            models.CheckConstraint(
                condition=Q(workday_end__gt=models.F("workday_start")), name="sla_policy_workday_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"SLA of {self.organization_id}"


class RoutingOutcome(models.TextChoices):
    ROUTED = "routed", "Routed by a rule"
    OWNER_GIVEN = "owner_given", "Owner given when created"
    NO_RULE = "no_rule", "No rule matched"
    NOBODY_AVAILABLE = "nobody_available", "The matching rule found nobody available"
    NOT_ROUTED = "not_routed", "No routing rules were active"


class LeadRouting(TenantModel):
    """How a new lead was routed, and its first-contact SLA: deadline, reminder, reassignment.

    Written when the lead is created in an organization with active rules (and for every lead of a
    set-based import); in an organization without rules the SLA task writes it a few minutes later,
    so that creating a lead costs no extra statement when routing is not used.
    """

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=20, choices=RoutingOutcome.choices)
    rule = models.ForeignKey(RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Names as they were when the lead was routed (rules and teams may be renamed or deleted).
    rule_name = models.CharField(max_length=100, blank=True)
    team_name = models.CharField(max_length=100, blank=True)
    routed_at = models.DateTimeField(default=timezone.now)
    # Counted from the lead's creation; none for a lead that arrived with an old creation date (an
    # import of history), which no one can still contact "first" in time.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    reassign_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    reassigned_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "lead"], name="lead_routing_one_per_lead")
        ]
        indexes = [
            models.Index(fields=["organization", "sla_due_at"], name="lead_routing_org_due_idx"),
            models.Index(fields=["organization", "reassign_at"], name="lead_routing_org_reassign_idx"),
        ]

    def __str__(self) -> str:
        return f"routing of lead {self.lead_id}"


class NotificationKind(models.TextChoices):
    SLA_REMINDER = "sla_reminder", "First-contact SLA reached"
    SLA_REASSIGNED = "sla_reassigned", "Lead reassigned to you (SLA missed)"


class Notification(TenantModel):
    """An in-app message to one person. One per (kind, lead, recipient): sending twice is a no-op."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "lead", "recipient"], name="notification_once_per_lead"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "recipient", "created_at"], name="notification_org_recipient_idx"
            )
        ]

    def __str__(self) -> str:
        return self.message
