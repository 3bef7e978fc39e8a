"""The referral program: partners, tiers, programs, referrals (deal registrations), rewards.

Money is integer minor units in the organization's currency, as in leads.
Rules live in referrals/services.py; the models hold fields and constraints.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from leads.models import Campaign, Industry, Lead, Via, http_url_validator
from leads.regions import Region
from leadtrack.tenancy.models import TenantModel

DEFAULT_PROTECTION_DAYS = 90


class CommissionKind(models.TextChoices):
    PERCENT_FIRST_YEAR = "percent_first_year", "Percent of first-year value of won deals"
    BOUNTY_PER_SQL = "bounty_per_sql", "Fixed bounty per SQL"


class ThresholdMatch(models.TextChoices):
    ANY = "any", "Either threshold"
    ALL = "all", "Both thresholds"


class PartnerTier(TenantModel):
    """A level of the partner program (Registered, Silver, Gold…) and its default commission."""

    name = models.CharField(max_length=60)
    rank = models.PositiveSmallIntegerField(help_text="Higher rank = better tier; 0 is the entry tier.")
    # Thresholds for the nightly recomputation; an empty threshold is not required.
    min_won_revenue = models.BigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0)], help_text="Closed-won revenue, minor units."
    )
    min_referrals = models.PositiveIntegerField(null=True, blank=True)
    threshold_match = models.CharField(
        max_length=3, choices=ThresholdMatch.choices, default=ThresholdMatch.ANY
    )
    commission_kind = models.CharField(
        max_length=20, choices=CommissionKind.choices, default=CommissionKind.PERCENT_FIRST_YEAR
    )
    commission_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    bounty_amount = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "rank"], name="tier_rank_unique"),
            models.UniqueConstraint("organization", Lower("name"), name="tier_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    ENDED = "ended", "Ended"


class Partner(TenantModel):
    """An outside company in this organization's partner program."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, help_text="The partner's own company domain.")
    status = models.CharField(max_length=10, choices=PartnerStatus.choices, default=PartnerStatus.ACTIVE)
    territory = models.CharField(max_length=20, choices=Region.choices, blank=True)
    tier = models.ForeignKey(PartnerTier, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    certified = models.BooleanField(default=False)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    daily_referral_cap = models.PositiveIntegerField(
        default=25, validators=[MinValueValidator(1)], help_text="Referrals this partner may submit per day."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint("organization", Lower("name"), name="partner_name_unique")]

    def __str__(self) -> str:
        return self.name


class ProgramKind(models.TextChoices):
    PARTNER = "partner", "Partner program"
    CUSTOMER = "customer", "Customer advocacy"
    EMPLOYEE = "employee", "Employee referrals"


class Program(TenantModel):
    """A referral program (certification track, customer advocacy, a region or industry track).

    Each program has a campaign of its own so that its performance is reported like a campaign's.
    """

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=ProgramKind.choices, default=ProgramKind.PARTNER)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    # Eligibility: empty means open to all.
    region = models.CharField(max_length=20, choices=Region.choices, blank=True)
    industry = models.ForeignKey(Industry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    requires_certification = models.BooleanField(default=False)
    min_tier = models.ForeignKey(
        PartnerTier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    protection_days = models.PositiveIntegerField(
        default=DEFAULT_PROTECTION_DAYS, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    auto_accept = models.BooleanField(
        default=True, help_text="Accept referrals without a conflict at once; else they wait for review."
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint("organization", Lower("name"), name="program_name_unique")]

    def __str__(self) -> str:
        return self.name


class ProgramRewardRule(TenantModel):
    """A program's reward for a tier and/or region; overrides the tier's default commission.

    The most specific rule wins: tier and region, then tier, then region, then neither.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="reward_rules")
    tier = models.ForeignKey(PartnerTier, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    region = models.CharField(max_length=20, choices=Region.choices, blank=True)
    commission_kind = models.CharField(max_length=20, choices=CommissionKind.choices)
    commission_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    bounty_amount = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "program", "tier", "region"],
                nulls_distinct=False,
                name="reward_rule_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.tier or 'any tier'} · {self.region or 'any region'}"


class PartnerUser(TenantModel):
    """A person with the ``partner`` role, acting for one partner in the portal."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="users")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="partner_user_unique")]

    def __str__(self) -> str:
        return f"{self.user} for {self.partner}"


class ReferrerKind(models.TextChoices):
    PARTNER = "partner", "Partner"
    CUSTOMER = "customer", "Customer"
    EMPLOYEE = "employee", "Employee"


class ReferralStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    UNDER_REVIEW = "under_review", "Under review"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in_progress", "In progress"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"


# A registration that still claims its company and contact.
ACTIVE_STATUSES = (
    ReferralStatus.SUBMITTED,
    ReferralStatus.UNDER_REVIEW,
    ReferralStatus.ACCEPTED,
    ReferralStatus.IN_PROGRESS,
)
# Registrations whose lead is followed for the funnel and for rewards.
TRACKED_STATUSES = (ReferralStatus.SUBMITTED, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)


class Referral(TenantModel):
    """A deal registration: who referred whom, through which program, and where it stands.

    The referrer is exactly one of a partner, a customer (a won lead) or an employee.
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="referrals")
    referrer_kind = models.CharField(max_length=10, choices=ReferrerKind.choices)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    referring_customer = models.ForeignKey(
        Lead, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals_made"
    )
    referring_employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.PORTAL)
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals")
    # What the referrer submitted (the lead may differ once it is worked).
    company = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=50, blank=True)
    website = models.CharField(max_length=300, blank=True, validators=[http_url_validator])
    domain = models.CharField(max_length=253, blank=True)
    country = models.CharField(max_length=2, blank=True)
    notes = models.TextField(blank=True, max_length=10_000)
    # Review: what the referral conflicts with (internal), and the reason the partner sees.
    conflict_lead = models.ForeignKey(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    conflict_referral = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    conflict_reason = models.CharField(max_length=200, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=15, choices=ReferralStatus.choices, default=ReferralStatus.SUBMITTED)
    submitted_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # GDPR Art. 14: the person did not give us their data, the partner did; when they were told.
    privacy_notice_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(referrer_kind="partner", partner__isnull=False, referring_customer__isnull=True)
                    | Q(referrer_kind="customer", partner__isnull=True, referring_customer__isnull=False)
                    | Q(referrer_kind="employee", partner__isnull=True, referring_customer__isnull=True)
                ),
                name="referral_one_referrer",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "partner", "submitted_at"], name="referral_org_partner_idx"),
            models.Index(fields=["organization", "status", "expires_at"], name="referral_org_status_idx"),
            models.Index(fields=["organization", "lead"], name="referral_org_lead_idx"),
            models.Index("organization", Lower("email"), name="referral_org_email_idx"),
            models.Index(fields=["organization", "domain"], name="referral_org_domain_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.company} ({self.get_status_display()})"

    @property
    def referrer_name(self) -> str:
        if self.partner_id:
            return str(self.partner)
        if self.referring_customer_id:
            return str(self.referring_customer)
        return str(self.referring_employee or "Employee")


class ReferralEvent(TenantModel):
    """Append-only status history of a referral: the dates the partner sees."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=15, choices=ReferralStatus.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["organization", "referral", "at"], name="refevent_org_ref_idx")]

    def __str__(self) -> str:
        return f"{self.referral_id} → {self.status}"


class RewardStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    PAID = "paid", "Paid"


class RewardLedgerEntry(TenantModel):
    """What a referral earned, computed once from the tier and program rules at that moment."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="rewards")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="rewards"
    )
    tier = models.ForeignKey(PartnerTier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    tier_name = models.CharField(max_length=60, blank=True)
    commission_kind = models.CharField(max_length=20, choices=CommissionKind.choices)
    commission_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    basis_amount = models.BigIntegerField(default=0, help_text="First-year value the percent applies to.")
    amount = models.BigIntegerField(validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=RewardStatus.choices, default=RewardStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payment_reference = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name_plural = "reward ledger entries"
        constraints = [
            # One reward per referral, however often the stage signal is delivered.
            models.UniqueConstraint(fields=["organization", "referral"], name="reward_once_per_referral"),
        ]
        indexes = [
            models.Index(fields=["organization", "partner", "created_at"], name="reward_org_partner_idx"),
            models.Index(fields=["organization", "status"], name="reward_org_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} for referral {self.referral_id} ({self.status})"


class TierChange(TenantModel):
    """Log of a partner's tier changes, by the nightly recomputation or by a manager."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(PartnerTier, on_delete=models.SET_NULL, null=True, related_name="+")
    to_tier = models.ForeignKey(PartnerTier, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    won_revenue = models.BigIntegerField(default=0)
    referral_count = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["organization", "partner", "changed_at"], name="tierchange_org_idx")]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.from_tier_id} → {self.to_tier_id}"


class ReferralLink(TenantModel):
    """A trackable public link ``/r/<code>`` of a partner or of a customer advocate.

    The code starts with the organization's id (``<org id>-<random>``): a public request has
    no organization yet and row-level security hides every tenant row, so the prefix says
    which organization to enter before the link itself can be read.
    """

    code = models.CharField(max_length=32, unique=True)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="links")
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="links"
    )
    customer = models.ForeignKey(Lead, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(partner__isnull=False, customer__isnull=True)
                | Q(partner__isnull=True, customer__isnull=False),
                name="referral_link_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.code
