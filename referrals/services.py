"""Writes of the referral program: registrations, reviews, expiry, rewards, tiers, links.

Every path (portal, public link, the app, the API, tasks) comes here.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django_countries import countries

from funnel.stages import OPEN_STAGES, Stage
from leads.models import Campaign, ChannelType, Lead, Source, Via
from leads.rules import domain_from, normalize_email, region_for
from leads.services import DuplicateLeadError, activity_log, lead_create
from leadtrack.accounts.models import User
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import Role
from referrals import signals
from referrals.models import (
    ACTIVE_STATUSES,
    CommissionKind,
    Partner,
    PartnerStatus,
    PartnerTier,
    PartnerUser,
    Program,
    ProgramKind,
    ProgramRewardRule,
    Referral,
    ReferralEvent,
    ReferralLink,
    ReferralStatus,
    ReferrerKind,
    RewardLedgerEntry,
    RewardStatus,
    TierChange,
)

# What a referrer may submit; everything else on a referral is set here.
REFERRAL_INPUT_FIELDS = ("company", "contact_name", "email", "phone", "website", "country", "notes")
NOTES_MAX_CHARS = 10_000
# Customers refer through a public link: a lower daily cap than partners'.
CUSTOMER_DAILY_REFERRAL_CAP = 5
# Tier thresholds look at the trailing year of closed-won revenue.
TIER_REVENUE_WINDOW = timedelta(days=365)

_CHANNEL = {
    ReferrerKind.PARTNER: (ChannelType.PARTNER_REFERRAL, "Partner referral"),
    ReferrerKind.CUSTOMER: (ChannelType.CUSTOMER_REFERRAL, "Customer referral"),
    ReferrerKind.EMPLOYEE: (ChannelType.EMPLOYEE_REFERRAL, "Employee referral"),
}
_PROGRAM_KIND = {
    ReferrerKind.PARTNER: ProgramKind.PARTNER,
    ReferrerKind.CUSTOMER: ProgramKind.CUSTOMER,
    ReferrerKind.EMPLOYEE: ProgramKind.EMPLOYEE,
}
# Referrals whose lead is followed through the funnel.
_TRACKED = (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)
# A re-submission of the same person while one of these stands returns the existing referral (R4).
_STANDING = (*ACTIVE_STATUSES, ReferralStatus.WON)


@dataclass(frozen=True)
class Referrer:
    """Exactly one of a partner, a referring customer (a won lead) or an employee."""

    kind: ReferrerKind
    partner: Partner | None = None
    customer: Lead | None = None
    employee: User | None = None

    def filter(self) -> Q:
        if self.kind == ReferrerKind.PARTNER:
            return Q(partner=self.partner)
        if self.kind == ReferrerKind.CUSTOMER:
            return Q(referring_customer=self.customer)
        return Q(referrer_kind=ReferrerKind.EMPLOYEE, referring_employee=self.employee)


@dataclass(frozen=True)
class Submission:
    referral: Referral
    created: bool  # False: the same person was already referred by this referrer (R4)


# --- helpers -------------------------------------------------------------------------------


def _lock(*keys: str) -> None:
    """Serialize concurrent registrations of the same e-mail or domain (transaction-scoped)."""
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def _set_status(*, referral: Referral, status: str, at: datetime | None = None) -> None:
    """Change the status, log the date the partner sees, and announce it after commit."""
    at = at or timezone.now()
    previous = referral.status
    referral.status = status
    referral.status_changed_at = at
    if status in (ReferralStatus.WON, ReferralStatus.LOST, ReferralStatus.REJECTED, ReferralStatus.EXPIRED):
        referral.closed_at = at
    referral.save()
    ReferralEvent.objects.create(
        organization_id=referral.organization_id, referral=referral, status=status, at=at
    )
    if previous != status:
        org_id, referral_id, partner_id = referral.organization_id, referral.pk, referral.partner_id
        transaction.on_commit(
            lambda: signals.referral_status_changed.send(
                sender=Referral,
                organization_id=org_id,
                referral_id=referral_id,
                from_status=previous,
                to_status=status,
                partner_id=partner_id,
            )
        )


def referral_source(*, org: Organization, kind: str) -> Source:
    """The organization's source for a referral channel, created on first use."""
    channel, name = _CHANNEL[ReferrerKind(kind)]
    source = Source.objects.filter(organization=org, channel_type=channel).order_by("pk").first()
    if source is None:
        source = Source.objects.filter(organization=org, name__iexact=name).first()
    if source is None:
        source = Source.objects.create(
            organization=org, name=name, channel_type=channel, is_inbound=True, is_referral=True
        )
    return source


def _clean_input(*, data: Mapping[str, Any]) -> dict[str, str]:
    unknown = set(data) - set(REFERRAL_INPUT_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be set here." for field in sorted(unknown)})
    cleaned = {field: str(data.get(field) or "").strip() for field in REFERRAL_INPUT_FIELDS}
    cleaned["email"] = normalize_email(cleaned["email"])
    cleaned["country"] = cleaned["country"].upper()
    if cleaned["website"] and "//" not in cleaned["website"]:
        cleaned["website"] = "https://" + cleaned["website"]
    errors = {}
    for field in ("company", "contact_name", "email"):
        if not cleaned[field]:
            errors[field] = "This field is required."
    if len(cleaned["notes"]) > NOTES_MAX_CHARS:
        errors["notes"] = f"At most {NOTES_MAX_CHARS} characters."
    if cleaned["country"] and cleaned["country"] not in countries:
        errors["country"] = "Unknown country."
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_eligibility(*, org: Organization, program: Program, referrer: Referrer, country: str) -> None:
    if program.kind != _PROGRAM_KIND[referrer.kind]:
        raise ValidationError({"program": "This program does not take this kind of referral."})
    if not program.active:
        raise ValidationError({"program": "This program is closed."})
    if referrer.kind == ReferrerKind.PARTNER:
        partner = referrer.partner
        if partner.status != PartnerStatus.ACTIVE:
            raise ValidationError("Your partnership is not active.")
        if program.requires_certification and not partner.certified:
            raise ValidationError({"program": "This program is for certified partners."})
        if program.min_tier_id and (partner.tier is None or partner.tier.rank < program.min_tier.rank):
            raise ValidationError({"program": f"This program starts at the {program.min_tier} tier."})
    if program.region:
        if not country:
            raise ValidationError({"country": "This program needs the company's country."})
        if region_for(org=org, country=country) != program.region:
            raise ValidationError(
                {"country": f"This program is for companies in {program.get_region_display()}."}
            )


def _check_daily_cap(*, org: Organization, referrer: Referrer) -> None:
    if referrer.kind == ReferrerKind.PARTNER:
        cap = referrer.partner.daily_referral_cap
    elif referrer.kind == ReferrerKind.CUSTOMER:
        cap = CUSTOMER_DAILY_REFERRAL_CAP
    else:
        return  # employees are members of the organization
    local_now = timezone.localtime(timezone.now(), org.tzinfo)
    day_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = Referral.objects.filter(referrer.filter(), organization=org, submitted_at__gte=day_start).count()
    if today >= cap:
        raise ValidationError(f"The daily limit of {cap} referrals is reached. Try again tomorrow.")


def _find_conflict(
    *, org: Organization, referrer: Referrer, email: str, domain: str
) -> tuple[Lead | None, Referral | None, str]:
    """An open lead, or another referrer's active registration, with this e-mail or company domain."""
    # Lead.email_lower and its unique index's condition: an index lookup under row-level security.
    lead_match = Q(email_lower=email.lower()) & ~Q(email="")
    match = Q(email__iexact=email)
    if domain:
        lead_match |= Q(domain=domain)
        match |= Q(domain=domain)
    lead = (
        Lead.objects.filter(lead_match, organization=org, deleted_at__isnull=True, stage__in=OPEN_STAGES)
        .order_by("created_at")
        .first()
    )
    if lead is not None:
        same_email = lead.email == email
        return (
            lead,
            None,
            "An open lead has this contact's e-mail" if same_email else "An open lead has this company",
        )
    other = (
        Referral.objects.filter(match, organization=org, status__in=ACTIVE_STATUSES)
        .exclude(referrer.filter())
        .order_by("submitted_at")
        .first()
    )
    if other is not None:
        return None, other, "Another registration claims this company or contact"
    return None, None, ""


def _lead_data(*, referral: Referral, program: Program, source: Source) -> dict[str, Any]:
    data = {
        "company": referral.company,
        "contact_name": referral.contact_name,
        "email": referral.email,
        "phone": referral.phone,
        "website": referral.website,
        "country": referral.country,
        "source": source,
        "campaign": program.campaign,
    }
    if program.industry_id:
        data["industry"] = program.industry
    return data


def _accept(*, referral: Referral, lead: Lead, actor: User | None, at: datetime) -> None:
    referral.lead = lead
    referral.accepted_at = at
    referral.expires_at = at + timedelta(days=referral.program.protection_days)
    referral.reviewed_by = actor
    _set_status(referral=referral, status=ReferralStatus.ACCEPTED, at=at)
    # The lead may already be further down the funnel (an approved conflict).
    referral_sync_with_lead(org=referral.organization, lead_id=lead.pk)


def _note_on_lead(*, org: Organization, referral: Referral, actor: User | None, via: str) -> None:
    if referral.notes:
        activity_log(
            org=org,
            actor=actor,
            lead_id=referral.lead_id,
            kind="note",
            via=via,
            subject=f"Referral notes from {referral.referrer_name}"[:300],
            body=referral.notes,
        )


# --- registration --------------------------------------------------------------------------


@transaction.atomic
def referral_submit(
    *,
    org: Organization,
    program_id: int,
    referrer: Referrer,
    data: Mapping[str, Any],
    submitted_by: User | None,
    via: str = Via.PORTAL,
) -> Submission:
    """Register a referral: create its lead, or queue it for review on a conflict.

    - Same person (e-mail) already referred by this referrer and still standing → that
      referral is returned (``created=False``); no second lead, no second reward (R4).
    - Daily cap per partner (and per customer advocate) → ValidationError.
    - An open lead or another referrer's active registration with this e-mail or company
      domain → status ``under_review`` and no lead is created; the manager decides.
    - Otherwise a lead is created with the channel's source and the program's campaign;
      the referral is ``accepted`` (protected for the program's window) or, when the
      program reviews every referral, ``submitted``.
    Raises ValidationError (field errors) and Program.DoesNotExist (→ 404).
    """
    cleaned = _clean_input(data=data)
    program = Program.objects.select_related("min_tier", "campaign", "industry").get(
        organization=org, pk=program_id
    )
    if referrer.kind == ReferrerKind.PARTNER:
        # Row lock: one submission at a time per partner keeps the cap and R4 exact.
        locked = (
            Partner.objects.select_for_update(of=("self",))
            .select_related("tier")
            .get(organization=org, pk=referrer.partner.pk)
        )
        referrer = Referrer(kind=referrer.kind, partner=locked)
    _check_eligibility(org=org, program=program, referrer=referrer, country=cleaned["country"])
    domain = domain_from(website=cleaned["website"], email=cleaned["email"])
    _lock(
        f"referral:{org.pk}:email:{cleaned['email']}",
        *([f"referral:{org.pk}:domain:{domain}"] if domain else []),
    )

    existing = (
        Referral.objects.filter(
            referrer.filter(), organization=org, email__iexact=cleaned["email"], status__in=_STANDING
        )
        .order_by("submitted_at")
        .first()
    )
    if existing is not None:
        return Submission(referral=existing, created=False)
    _check_daily_cap(org=org, referrer=referrer)

    now = timezone.now()
    referral = Referral(
        organization=org,
        program=program,
        referrer_kind=referrer.kind,
        partner=referrer.partner,
        referring_customer=referrer.customer,
        referring_employee=referrer.employee,
        submitted_by=submitted_by,
        via=via,
        domain=domain,
        submitted_at=now,
        status_changed_at=now,
        **cleaned,
    )
    referral.full_clean(
        exclude=["organization", "program", "partner", "referring_customer", "lead", "conflict_lead"]
    )
    conflict_lead, conflict_referral, reason = _find_conflict(
        org=org, referrer=referrer, email=cleaned["email"], domain=domain
    )
    lead = None
    if conflict_lead is None and conflict_referral is None:
        source = referral_source(org=org, kind=referrer.kind)
        try:
            lead = lead_create(
                org=org,
                actor=submitted_by,
                data=_lead_data(referral=referral, program=program, source=source),
                via=via,
            )
        except DuplicateLeadError as exc:
            conflict_lead, reason = exc.existing, f"A lead with the same {exc.reason} exists"
    referral.conflict_lead = conflict_lead
    referral.conflict_referral = conflict_referral
    referral.conflict_reason = reason
    referral.status = ReferralStatus.SUBMITTED
    referral.lead = lead
    referral.save()
    ReferralEvent.objects.create(organization=org, referral=referral, status=ReferralStatus.SUBMITTED, at=now)
    if lead is None:
        _set_status(referral=referral, status=ReferralStatus.UNDER_REVIEW, at=now)
    else:
        _note_on_lead(org=org, referral=referral, actor=submitted_by, via=via)
        if program.auto_accept:
            _accept(referral=referral, lead=lead, actor=None, at=now)
    referral_id, status, kind, partner_id = (
        referral.pk,
        referral.status,
        referral.referrer_kind,
        referral.partner_id,
    )
    transaction.on_commit(
        lambda: signals.referral_created.send(
            sender=Referral,
            organization_id=org.pk,
            referral_id=referral_id,
            status=status,
            referrer_kind=kind,
            partner_id=partner_id,
        )
    )
    transaction.on_commit(lambda: _enqueue_privacy_notice(org=org, referral_id=referral_id))
    return Submission(referral=referral, created=True)


# --- GDPR Art. 14 notice ---------------------------------------------------------------------------


def _enqueue_privacy_notice(*, org: Organization, referral_id: int) -> None:
    from referrals.tasks import referral_privacy_notice_send_task

    referral_privacy_notice_send_task.delay(organization_id=org.pk, referral_id=referral_id)


def _privacy_notice_text(*, org: Organization, referral: Referral) -> str:
    return (
        f"Hello {referral.contact_name},\n\n"
        f"{referral.referrer_name} passed your name and contact details ({referral.email}"
        f"{', ' + referral.phone if referral.phone else ''}, {referral.company}) to {org.name}, "
        f"who will contact you about its products and services. {org.name} is responsible for this "
        "data (the controller) and processes it on the basis of its legitimate interest in "
        "business-to-business prospecting (GDPR Art. 6(1)(f)).\n\n"
        "We keep it while we are in touch and for the retention period of our privacy policy. You may "
        "ask for a copy, correction or erasure of your data, object to its use, or opt out of "
        f"marketing at any time by replying to this message; you may also complain to a supervisory "
        "authority."
    )


@transaction.atomic
def referral_privacy_notice_send(
    *, org: Organization, referral_id: int, now: datetime | None = None
) -> Referral:
    """Tell the referred person, by e-mail, who holds their data, from whom, why, and their rights
    (Art. 14: the partner, not the person, gave it), and date it. Sent once: a referral already
    noticed (sent, or recorded by hand) is left alone, so retries and the task running twice
    send nothing twice. Raises Referral.DoesNotExist."""
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("partner", "referring_customer", "referring_employee")
        .get(organization=org, pk=referral_id)
    )
    if referral.privacy_notice_at is not None or not referral.email:
        return referral
    send_mail(
        subject=f"How {org.name} got your contact details",
        message=_privacy_notice_text(org=org, referral=referral),
        from_email=None,
        recipient_list=[referral.email],
    )
    return _privacy_notice_mark(referral=referral, at=now or timezone.now())


@transaction.atomic
def referral_privacy_notice_record(
    *, org: Organization, referral_id: int, at: datetime | None = None
) -> Referral:
    """Record an Art. 14 notice given another way (at the first call, in the first e-mail a rep
    sent); the automatic one is then not sent. Raises Referral.DoesNotExist, ValidationError
    for a date in the future."""
    at = at or timezone.now()
    if at > timezone.now():
        raise ValidationError({"privacy_notice_at": "Cannot be in the future."})
    referral = Referral.objects.select_for_update(of=("self",)).get(organization=org, pk=referral_id)
    if referral.privacy_notice_at is not None:
        return referral
    return _privacy_notice_mark(referral=referral, at=at)


def _privacy_notice_mark(*, referral: Referral, at: datetime) -> Referral:
    referral.privacy_notice_at = at
    referral.save(update_fields=["privacy_notice_at"])
    return referral


def _active_registration_of_another(*, org: Organization, referral: Referral, lead: Lead) -> Referral | None:
    return (
        Referral.objects.filter(organization=org, lead=lead, status__in=_TRACKED)
        .exclude(pk=referral.pk)
        .select_related("partner")
        .first()
    )


@transaction.atomic
def referral_approve(*, org: Organization, actor: User | None, referral_id: int) -> Referral:
    """Accept a submitted or under-review registration and start its protection window.

    A conflicting lead is linked (the referrer is credited with it); with no lead to link, a
    lead is created. Refused (ValidationError) when another registration already protects the
    lead or the lead is closed. Raises Referral.DoesNotExist (→ 404).
    """
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("program__campaign", "program__industry", "conflict_lead", "conflict_referral__lead")
        .get(organization=org, pk=referral_id)
    )
    if referral.status not in (ReferralStatus.SUBMITTED, ReferralStatus.UNDER_REVIEW):
        raise ValidationError(
            f"A referral that is {referral.get_status_display().lower()} cannot be approved."
        )
    lead = referral.lead
    if lead is None:
        candidates = [
            referral.conflict_lead,
            referral.conflict_referral.lead if referral.conflict_referral else None,
        ]
        lead = next((c for c in candidates if c is not None and c.deleted_at is None), None)
    if lead is None:
        source = referral_source(org=org, kind=referral.referrer_kind)
        try:
            lead = lead_create(
                org=org,
                actor=actor,
                data=_lead_data(referral=referral, program=referral.program, source=source),
                via=Via.UI,
            )
        except DuplicateLeadError as exc:
            lead = exc.existing
    lead = Lead.objects.select_for_update().get(organization=org, pk=lead.pk)
    if lead.stage not in OPEN_STAGES:
        raise ValidationError(
            f"The lead is {lead.get_stage_display().lower()}: it can no longer be registered."
        )
    other = _active_registration_of_another(org=org, referral=referral, lead=lead)
    if other is not None:
        raise ValidationError(
            f"{other.referrer_name}'s registration protects this lead until "
            f"{timezone.localtime(other.expires_at, org.tzinfo):%Y-%m-%d}. Reject this one instead."
        )
    first_link = referral.lead_id is None
    _accept(referral=referral, lead=lead, actor=actor, at=timezone.now())
    if first_link:
        _note_on_lead(org=org, referral=referral, actor=actor, via=Via.UI)
    return referral


@transaction.atomic
def referral_reject(*, org: Organization, actor: User | None, referral_id: int, reason: str) -> Referral:
    """Reject a registration with a reason the referrer sees. Raises Referral.DoesNotExist (→ 404)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why: the partner sees this reason."})
    if len(reason) > 500:
        raise ValidationError({"reason": "At most 500 characters."})
    referral = Referral.objects.select_for_update().get(organization=org, pk=referral_id)
    if referral.status not in (
        ReferralStatus.SUBMITTED,
        ReferralStatus.UNDER_REVIEW,
        ReferralStatus.ACCEPTED,
    ):
        raise ValidationError(
            f"A referral that is {referral.get_status_display().lower()} cannot be rejected."
        )
    referral.rejection_reason = reason
    referral.reviewed_by = actor
    _set_status(referral=referral, status=ReferralStatus.REJECTED)
    return referral


@transaction.atomic
def referral_expire_due(*, org: Organization, now: datetime | None = None) -> int:
    """Expire accepted registrations whose protection window has ended; returns how many.

    Only ``accepted`` ones expire: a registration whose lead moved on (in progress) is
    being worked and stays the referrer's until it closes.
    """
    now = now or timezone.now()
    due = list(
        Referral.objects.select_for_update(skip_locked=True).filter(
            organization=org, status=ReferralStatus.ACCEPTED, expires_at__lte=now
        )
    )
    for referral in due:
        _set_status(referral=referral, status=ReferralStatus.EXPIRED, at=now)
    return len(due)


# --- funnel → referral status and rewards ----------------------------------------------------


def status_for_stage(stage: str) -> ReferralStatus:
    """The status a referrer sees for a funnel stage: no internal stage names leak out."""
    if stage == Stage.LEAD:
        return ReferralStatus.ACCEPTED
    if stage in (Stage.MQL, Stage.SQL, Stage.OPPORTUNITY):
        return ReferralStatus.IN_PROGRESS
    if stage == Stage.WON:
        return ReferralStatus.WON
    return ReferralStatus.LOST


@transaction.atomic
def referral_sync_with_lead(*, org: Organization, lead_id: int) -> list[Referral]:
    """Follow the lead's stage on its tracked registrations and grant rewards that became due.

    Reads the lead's current stage, not the event's, so a retried or late event is harmless.
    """
    lead = Lead.objects.filter(organization=org, pk=lead_id).first()
    if lead is None:
        return []
    referrals = list(
        Referral.objects.select_for_update(of=("self",))
        .select_related("program", "partner__tier")
        .filter(organization=org, lead=lead, status__in=_TRACKED)
    )
    for referral in referrals:
        status = status_for_stage(lead.stage)
        if status != referral.status:
            closed = status in (ReferralStatus.WON, ReferralStatus.LOST)
            _set_status(referral=referral, status=status, at=lead.closed_at if closed else None)
        reward_grant(org=org, referral=referral, lead=lead)
    return referrals


@dataclass(frozen=True)
class RewardRule:
    kind: str
    percent: Decimal
    bounty: int


def reward_rule_for(*, referral: Referral, region: str) -> RewardRule | None:
    """The program's most specific rule for the partner's current tier and the lead's region,
    else the tier's own commission. None when nothing rewards this referral."""
    tier = referral.partner.tier if referral.partner_id else None
    rules = {
        (rule.tier_id, rule.region): rule
        for rule in ProgramRewardRule.objects.filter(
            organization_id=referral.organization_id, program_id=referral.program_id
        )
    }
    tier_id = tier.pk if tier else None
    for key in ((tier_id, region), (tier_id, ""), (None, region), (None, "")):
        rule = rules.get(key)
        if rule is not None:
            return RewardRule(rule.commission_kind, rule.commission_percent, rule.bounty_amount)
    if tier is not None:
        return RewardRule(tier.commission_kind, tier.commission_percent, tier.bounty_amount)
    return None


def reward_amount(*, rule: RewardRule, lead: Lead) -> tuple[int, int]:
    """(basis, amount) in minor units: a percent of the first-year value (else the won amount),
    rounded half up to the minor unit; or the fixed bounty."""
    if rule.kind == CommissionKind.BOUNTY_PER_SQL:
        return 0, rule.bounty
    basis = lead.value_12m if lead.value_12m is not None else (lead.won_amount or 0)
    amount = (Decimal(basis) * rule.percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return basis, int(amount)


def reward_grant(*, org: Organization, referral: Referral, lead: Lead) -> RewardLedgerEntry | None:
    """Create the referral's reward when it is due, exactly once.

    Due when the rule of the partner's tier *now* says so: a percent commission when the lead
    is won, a bounty once it has reached SQL. The unique constraint on the referral makes a
    second delivery of the same event (or a race) a no-op.
    """
    if RewardLedgerEntry.objects.filter(organization=org, referral=referral).exists():
        return None
    rule = reward_rule_for(referral=referral, region=lead.region)
    if rule is None:
        return None
    due = (
        lead.stage == Stage.WON
        if rule.kind == CommissionKind.PERCENT_FIRST_YEAR
        else lead.reached_sql_at is not None
    )
    if not due:
        return None
    basis, amount = reward_amount(rule=rule, lead=lead)
    if amount <= 0:
        return None
    tier = referral.partner.tier if referral.partner_id else None
    try:
        with transaction.atomic():
            return RewardLedgerEntry.objects.create(
                organization=org,
                referral=referral,
                program_id=referral.program_id,
                partner=referral.partner,
                tier=tier,
                tier_name=tier.name if tier else "",
                commission_kind=rule.kind,
                commission_percent=rule.percent,
                basis_amount=basis,
                amount=amount,
                currency=lead.currency or org.currency,
            )
    except IntegrityError:
        return None


@transaction.atomic
def reward_approve(*, org: Organization, actor: User, reward_id: int) -> RewardLedgerEntry:
    """pending → approved. Raises RewardLedgerEntry.DoesNotExist (→ 404)."""
    reward = RewardLedgerEntry.objects.select_for_update().get(organization=org, pk=reward_id)
    if reward.status != RewardStatus.PENDING:
        raise ValidationError("Only a pending reward can be approved.")
    reward.status, reward.approved_at, reward.approved_by = RewardStatus.APPROVED, timezone.now(), actor
    reward.save()
    return reward


@transaction.atomic
def reward_mark_paid(
    *, org: Organization, actor: User, reward_id: int, reference: str = ""
) -> RewardLedgerEntry:
    """approved → paid. Raises RewardLedgerEntry.DoesNotExist (→ 404)."""
    reward = RewardLedgerEntry.objects.select_for_update().get(organization=org, pk=reward_id)
    if reward.status != RewardStatus.APPROVED:
        raise ValidationError("Approve the reward before marking it paid.")
    if len(reference) > 100:
        raise ValidationError({"reference": "At most 100 characters."})
    reward.status, reward.paid_at, reward.paid_by = RewardStatus.PAID, timezone.now(), actor
    reward.payment_reference = reference.strip()
    reward.save()
    return reward


# --- tiers ----------------------------------------------------------------------------------


def _qualifies(tier: PartnerTier, *, revenue: int, referrals: int) -> bool:
    checks = []
    if tier.min_won_revenue is not None:
        checks.append(revenue >= tier.min_won_revenue)
    if tier.min_referrals is not None:
        checks.append(referrals >= tier.min_referrals)
    if not checks:
        return True
    return all(checks) if tier.threshold_match == "all" else any(checks)


@transaction.atomic
def tiers_recompute(*, org: Organization, now: datetime | None = None) -> list[TierChange]:
    """Put every active partner in the best tier it qualifies for, and log each change.

    Revenue: closed-won amount of its referred leads over the trailing year; referrals:
    registrations ever accepted. One aggregate query for all partners.
    """
    now = now or timezone.now()
    tiers = list(PartnerTier.objects.filter(organization=org).order_by("-rank"))
    if not tiers:
        return []
    since = now - TIER_REVENUE_WINDOW
    partners = Partner.objects.filter(organization=org, status=PartnerStatus.ACTIVE).annotate(
        revenue=Sum(
            "referrals__lead__won_amount",
            filter=Q(
                referrals__status=ReferralStatus.WON,
                referrals__lead__stage=Stage.WON,
                referrals__lead__closed_at__gte=since,
            ),
            default=0,
        ),
        accepted=Count("referrals", filter=Q(referrals__accepted_at__isnull=False)),
    )
    changes = []
    for partner in partners:
        best = next(
            (t for t in tiers if _qualifies(t, revenue=partner.revenue, referrals=partner.accepted)), None
        )
        if best is None or best.pk == partner.tier_id:
            continue
        changes.append(
            TierChange(
                organization=org,
                partner=partner,
                from_tier_id=partner.tier_id,
                to_tier=best,
                changed_at=now,
                won_revenue=partner.revenue,
                referral_count=partner.accepted,
                reason="Nightly recomputation",
            )
        )
        Partner.objects.filter(organization=org, pk=partner.pk).update(tier=best)
    TierChange.objects.bulk_create(changes)
    return changes


def link_code(*, org: Organization) -> str:
    """``<organization id>-<80 random bits in hex>``; the prefix routes a public request."""
    return f"{org.pk}-{secrets.token_hex(10)}"


def organization_id_of_link(code: str) -> int | None:
    prefix, separator, rest = code.partition("-")
    if not (separator and prefix.isdigit() and rest) or len(prefix) > 18:
        return None
    return int(prefix)


# --- program administration ----------------------------------------------------------------


@transaction.atomic
def tier_save(*, org: Organization, tier: PartnerTier) -> PartnerTier:
    """Create or change a tier (validated; name and rank unique in the organization)."""
    tier.organization = org
    tier.full_clean(exclude=["organization"], validate_unique=False, validate_constraints=False)
    clash = PartnerTier.objects.filter(organization=org).exclude(pk=tier.pk)
    if clash.filter(rank=tier.rank).exists():
        raise ValidationError({"rank": "Another tier has this rank."})
    if clash.filter(name__iexact=tier.name).exists():
        raise ValidationError({"name": "Another tier has this name."})
    tier.save()
    return tier


@transaction.atomic
def partner_save(*, org: Organization, actor: User | None, partner: Partner) -> Partner:
    """Create or change a partner; a tier change by hand is logged like the nightly ones."""
    partner.organization = org
    partner.domain = partner.domain.strip().lower().removeprefix("www.")
    partner.full_clean(exclude=["organization", "tier"], validate_unique=False, validate_constraints=False)
    if partner.tier_id and not PartnerTier.objects.filter(organization=org, pk=partner.tier_id).exists():
        raise ValidationError({"tier": "Unknown choice."})
    if Partner.objects.filter(organization=org, name__iexact=partner.name).exclude(pk=partner.pk).exists():
        raise ValidationError({"name": "Another partner has this name."})
    previous_tier_id = (
        Partner.objects.filter(organization=org, pk=partner.pk).values_list("tier_id", flat=True).first()
        if partner.pk
        else None
    )
    partner.save()
    if partner.tier_id != previous_tier_id:
        TierChange.objects.create(
            organization=org,
            partner=partner,
            from_tier_id=previous_tier_id,
            to_tier_id=partner.tier_id,
            changed_by=actor,
            reason="Set by a manager",
        )
    return partner


@transaction.atomic
def program_save(*, org: Organization, program: Program) -> Program:
    """Create or change a program; a new program gets a campaign of its own for reporting."""
    program.organization = org
    program.full_clean(
        exclude=["organization", "campaign", "industry", "min_tier"],
        validate_unique=False,
        validate_constraints=False,
    )
    if Program.objects.filter(organization=org, name__iexact=program.name).exclude(pk=program.pk).exists():
        raise ValidationError({"name": "Another program has this name."})
    if program.campaign_id is None:
        channel, _ = _CHANNEL[ReferrerKind(program.kind)]
        name = f"Referral program: {program.name}"[:200]
        campaign = Campaign.objects.filter(organization=org, name__iexact=name).first()
        program.campaign = campaign or Campaign.objects.create(
            organization=org,
            name=name,
            channel_type=channel,
            source=referral_source(org=org, kind=program.kind),
        )
    program.save()
    return program


@transaction.atomic
def reward_rule_save(*, org: Organization, rule: ProgramRewardRule) -> ProgramRewardRule:
    rule.organization = org
    rule.full_clean(
        exclude=["organization", "program", "tier"], validate_unique=False, validate_constraints=False
    )
    clash = ProgramRewardRule.objects.filter(
        organization=org, program_id=rule.program_id, tier_id=rule.tier_id, region=rule.region
    ).exclude(pk=rule.pk)
    if clash.exists():
        raise ValidationError("This program already has a rule for this tier and region.")
    rule.save()
    return rule


def program_for_employees(*, org: Organization) -> Program:
    """The active employee program, created on first use so any member can refer."""
    program = (
        Program.objects.filter(organization=org, kind=ProgramKind.EMPLOYEE, active=True)
        .order_by("pk")
        .first()
    )
    return program or program_save(
        org=org, program=Program(name="Employee referrals", kind=ProgramKind.EMPLOYEE)
    )


@transaction.atomic
def partner_user_link(*, org: Organization, partner_id: int, user_id: int) -> PartnerUser:
    """Tie a member with the partner role to a partner. Raises Partner.DoesNotExist (→ 404)."""
    partner = Partner.objects.get(organization=org, pk=partner_id)
    if not Membership.objects.filter(organization=org, user_id=user_id, role=Role.PARTNER).exists():
        raise ValidationError({"user": "Only members with the Partner role can act for a partner."})
    if PartnerUser.objects.filter(organization=org, user_id=user_id).exists():
        raise ValidationError({"user": "This person already acts for a partner."})
    return PartnerUser.objects.create(organization=org, partner=partner, user_id=user_id)


@transaction.atomic
def referral_link_create(
    *, org: Organization, program_id: int, partner_id: int | None = None, customer_lead_id: int | None = None
) -> ReferralLink:
    """A public link for a partner or a customer advocate (a won lead), in a program of the
    matching kind. Raises Partner/Lead/Program.DoesNotExist (→ 404)."""
    if (partner_id is None) == (customer_lead_id is None):
        raise ValidationError("A link belongs to one partner or one customer.")
    program = Program.objects.get(organization=org, pk=program_id)
    partner = customer = None
    if partner_id is not None:
        partner = Partner.objects.get(organization=org, pk=partner_id)
        expected = ProgramKind.PARTNER
    else:
        customer = Lead.objects.get(organization=org, pk=customer_lead_id, deleted_at__isnull=True)
        if customer.stage != Stage.WON:
            raise ValidationError({"customer": "Only a won customer can be an advocate."})
        expected = ProgramKind.CUSTOMER
    if program.kind != expected:
        raise ValidationError({"program": f"Choose a {ProgramKind(expected).label.lower()}."})
    code = link_code(org=org)
    return ReferralLink.objects.create(
        organization=org, code=code, program=program, partner=partner, customer=customer
    )
