from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Replace
from django.utils import timezone

from funnel.stages import Stage
from leads.fields import CountryField
from leads.regions import Region
from leadtrack.tenancy.models import TenantModel


class ChannelType(models.TextChoices):
    PARTNER_REFERRAL = "partner_referral", "Partner referral"
    CUSTOMER_REFERRAL = "customer_referral", "Customer referral"
    EMPLOYEE_REFERRAL = "employee_referral", "Employee referral"
    EVENT = "event", "Event"
    WEB_FORM = "web_form", "Web form"
    PAID = "paid", "Paid"
    OUTBOUND = "outbound", "Outbound"
    OTHER = "other", "Other"


REFERRAL_CHANNELS = frozenset(
    {ChannelType.PARTNER_REFERRAL, ChannelType.CUSTOMER_REFERRAL, ChannelType.EMPLOYEE_REFERRAL}
)
INBOUND_CHANNELS = frozenset({*REFERRAL_CHANNELS, ChannelType.EVENT, ChannelType.WEB_FORM, ChannelType.PAID})


class Segment(models.TextChoices):
    ENTERPRISE = "enterprise", "Enterprise"
    MID_MARKET = "mid_market", "Mid-market"
    SMB = "smb", "SMB"


class Via(models.TextChoices):
    """Where a write came from (audit trail, timelines)."""

    UI = "ui", "App"
    API = "api", "API"
    IMPORT = "import", "Import"
    PORTAL = "portal", "Partner portal"
    FORM = "form", "Web form"
    SYSTEM = "system", "Automation"


http_url_validator = URLValidator(schemes=["http", "https"])


class LawfulBasis(models.TextChoices):
    """GDPR Art. 6(1): why the organization may process the lead's personal data."""

    CONSENT = "consent", "Consent"
    CONTRACT = "contract", "Contract"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation"
    VITAL_INTERESTS = "vital_interests", "Vital interests"
    PUBLIC_TASK = "public_task", "Public task"
    LEGITIMATE_INTEREST = "legitimate_interest", "Legitimate interest"


class LeadSettings(TenantModel):
    """Per-organization rules for leads: segment thresholds and who sees whose leads."""

    enterprise_min_employees = models.PositiveIntegerField(default=1000)
    mid_market_min_employees = models.PositiveIntegerField(default=100)
    reps_see_all_leads = models.BooleanField(
        default=False, help_text="Sales reps see the team's leads, not only their own."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="lead_settings_one_per_org")]

    def __str__(self) -> str:
        return f"Lead settings of {self.organization_id}"


class CountryRegion(TenantModel):
    """An organization's override of the default region of one country."""

    country = CountryField()
    region = models.CharField(max_length=20, choices=Region.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "country"], name="country_region_unique")
        ]

    def __str__(self) -> str:
        return f"{self.country} → {self.region}"


class Industry(TenantModel):
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "industries"
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="industry_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Source(TenantModel):
    name = models.CharField(max_length=100)
    channel_type = models.CharField(max_length=30, choices=ChannelType.choices, default=ChannelType.OTHER)
    is_inbound = models.BooleanField(default=False)
    is_referral = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint("organization", Lower("name"), name="source_name_unique")]

    def __str__(self) -> str:
        return self.name


class Campaign(TenantModel):
    name = models.CharField(max_length=200)
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="campaigns"
    )
    channel_type = models.CharField(max_length=30, choices=ChannelType.choices, default=ChannelType.OTHER)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    # Money is integer minor units (cents) in the organization's currency.
    cost = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    budget = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="campaign_name_unique"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="campaign_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SpendEntry(TenantModel):
    """Channel spend not carried by a campaign's cost (ads, event fees, partner bounties)."""

    spent_on = models.DateField()
    amount = models.BigIntegerField(validators=[MinValueValidator(0)])
    source = models.ForeignKey(Source, on_delete=models.PROTECT, null=True, blank=True, related_name="spend")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="spend"
    )
    channel_type = models.CharField(max_length=30, choices=ChannelType.choices, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "spend entries"
        indexes = [models.Index(fields=["organization", "spent_on"], name="spend_org_date_idx")]

    def __str__(self) -> str:
        return f"{self.spent_on} {self.amount}"


class Lead(TenantModel):
    company = models.CharField(max_length=200, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    website = models.CharField(max_length=300, blank=True, validators=[http_url_validator])
    # Lower-case host without "www.", from the website or else the e-mail; used by de-duplication.
    domain = models.CharField(max_length=253, blank=True, editable=False)
    country = CountryField(blank=True)
    region = models.CharField(max_length=20, choices=Region.choices, blank=True)
    industry = models.ForeignKey(
        Industry, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    employees = models.PositiveIntegerField(null=True, blank=True)
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    source = models.ForeignKey(Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_leads"
    )
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.LEAD)
    # Money: integer minor units of ``currency``.
    expected_amount = models.BigIntegerField(null=True, blank=True, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, blank=True)
    won_amount = models.BigIntegerField(null=True, blank=True, validators=[MinValueValidator(0)])
    value_12m = models.BigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0)], help_text="First-12-months customer value."
    )
    score = models.IntegerField(default=0)
    external_id = models.CharField(max_length=100, blank=True)
    # One limit for every door (form, API, importer): a notes cell of megabytes is a mistake or an attack.
    notes = models.TextField(blank=True, max_length=20_000)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Funnel timestamps (docs/metrics.md): first time the stage or a later one was reached.
    reached_mql_at = models.DateTimeField(null=True, blank=True)
    reached_sql_at = models.DateTimeField(null=True, blank=True)
    reached_opportunity_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=300, blank=True)
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    first_meeting_at = models.DateTimeField(null=True, blank=True)

    # The de-duplication keys, lower-cased by the database. Row-level security only lets an index
    # serve a condition whose functions are leakproof: lower() is not, so an index on lower(email)
    # is never used under RLS and every duplicate check read all of a tenant's leads. Plain
    # equality on these columns is leakproof, so their unique indexes serve the checks. Text, not
    # varchar(n): lower() can lengthen a string ("İ" becomes two characters).
    email_lower = models.GeneratedField(
        expression=Lower("email"), output_field=models.TextField(), db_persist=True
    )
    contact_name_lower = models.GeneratedField(
        expression=Lower("contact_name"), output_field=models.TextField(), db_persist=True
    )

    # Full-text search over name, company and e-mail (its parts too, so "acme" finds
    # jane@acme.com). Built-in PostgreSQL: no extension needed on any server.
    search_vector = models.GeneratedField(
        expression=SearchVector(
            "contact_name",
            "company",
            "email",
            Replace(
                Replace("email", models.Value("@"), models.Value(" ")), models.Value("."), models.Value(" ")
            ),
            config="simple",
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    # Optimistic concurrency: every write bumps it; a stale writer gets a conflict.
    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # GDPR: the basis the organization relies on (services.default_lawful_basis picks it per
    # channel when not given), and when the person objected to or withdrew from marketing.
    lawful_basis = models.CharField(
        max_length=20, choices=LawfulBasis.choices, default=LawfulBasis.LEGITIMATE_INTEREST
    )
    marketing_withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # De-duplication, enforced by the database (soft-deleted rows do not block).
            models.UniqueConstraint(
                fields=["organization", "email_lower"],
                condition=Q(deleted_at__isnull=True) & ~Q(email=""),
                name="lead_unique_email",
            ),
            models.UniqueConstraint(
                fields=["organization", "domain", "contact_name_lower"],
                condition=Q(deleted_at__isnull=True) & ~Q(domain="") & ~Q(contact_name=""),
                name="lead_unique_domain_contact",
            ),
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(deleted_at__isnull=True) & ~Q(external_id=""),
                name="lead_unique_external_id",
            ),
            models.CheckConstraint(
                condition=~Q(company="") | ~Q(contact_name="") | ~Q(email=""),
                name="lead_has_identity",
            ),
        ]
        indexes = [
            models.Index(
                models.F("organization"),
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="lead_org_created_idx",
            ),
            models.Index(fields=["organization", "stage", "created_at"], name="lead_org_stage_idx"),
            models.Index(fields=["organization", "owner", "stage"], name="lead_org_owner_idx"),
            models.Index(fields=["organization", "source", "created_at"], name="lead_org_source_idx"),
            models.Index(fields=["organization", "updated_at", "id"], name="lead_org_updated_idx"),
            models.Index(fields=["organization", "domain"], name="lead_org_domain_idx"),
            # List sorts and a rep's own list stay index scans at 1M leads per tenant.
            models.Index(fields=["organization", "score", "id"], name="lead_org_score_idx"),
            models.Index(fields=["organization", "company", "id"], name="lead_org_company_idx"),
            models.Index(fields=["organization", "owner", "created_at"], name="lead_org_owner_created_idx"),
            # Covering index for the funnel aggregation (reports/queries.py): index-only per tenant.
            models.Index(
                fields=["organization", "created_at"],
                include=[
                    "stage",
                    "source",
                    "campaign",
                    "reached_mql_at",
                    "reached_sql_at",
                    "reached_opportunity_at",
                    "closed_at",
                    "deleted_at",
                    "won_amount",
                    "value_12m",
                ],
                name="lead_org_funnel_cover_idx",
            ),
            GinIndex(fields=["search_vector"], name="lead_search_idx"),
        ]

    def __str__(self) -> str:
        return self.company or self.contact_name or self.email

    @property
    def is_open(self) -> bool:
        return self.stage in (Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY)


class LeadChange(TenantModel):
    """Field-level history of a lead: who changed what, when. Append-only."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.UI)
    # {"field": [old, new], ...} with display values (names, not ids).
    changes = models.JSONField()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "lead", "changed_at"], name="leadchange_org_lead_idx")
        ]

    def __str__(self) -> str:
        return f"change of lead {self.lead_id} at {self.changed_at}"


class ConsentAction(models.TextChoices):
    GIVEN = "given", "Given"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ConsentRecord(TenantModel):
    """Proof of a consent given or withdrawn (Art. 7(1)): the exact wording, when, and where.
    Append-only; the lead's current state is ``Lead.lawful_basis`` / ``marketing_withdrawn_at``."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="consents")
    action = models.CharField(max_length=10, choices=ConsentAction.choices)
    # The wording the person agreed to (empty for a withdrawal).
    text = models.CharField(max_length=1000, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=10, choices=Via.choices)
    # Where it happened, in words: "Web form “Contact us” on https://…", "Lead page", "API".
    source = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["organization", "lead", "recorded_at"], name="consent_org_lead_idx")]

    def __str__(self) -> str:
        return f"consent {self.action} for lead {self.lead_id} at {self.recorded_at:%Y-%m-%d %H:%M}"


class ActivityKind(models.TextChoices):
    WEB_FORM = "web_form", "Web form submission"
    PAGE_VISIT = "page_visit", "Page visit"
    EMAIL_SENT = "email_sent", "E-mail sent"
    EMAIL_OPENED = "email_opened", "E-mail opened"
    EMAIL_REPLIED = "email_replied", "E-mail replied"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    DEMO = "demo", "Demo"
    NOTE = "note", "Note"


# The first of these sets first_contacted_at; the first meeting or demo sets first_meeting_at.
OUTBOUND_KINDS = frozenset(
    {ActivityKind.EMAIL_SENT, ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.DEMO}
)
MEETING_KINDS = frozenset({ActivityKind.MEETING, ActivityKind.DEMO})


class Activity(TenantModel):
    """A touchpoint on a lead's timeline, by a person or by an integration."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.UI)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=2000, blank=True, validators=[http_url_validator])
    referrer_url = models.CharField(max_length=2000, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(
                models.F("organization"),
                models.F("lead"),
                models.F("occurred_at").desc(),
                name="activity_org_lead_idx",
            ),
            models.Index(fields=["organization", "kind", "occurred_at"], name="activity_org_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.lead_id}"


class SavedView(TenantModel):
    """A named lead-list filter (the query string of the list page), personal or shared."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    query = models.CharField(max_length=2000, blank=True)
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organization", "owner"], name="savedview_org_owner_idx")]

    def __str__(self) -> str:
        return self.name


class ImportJob(TenantModel):
    """One uploaded CSV/XLSX file, its column mapping, and the outcome of importing it."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10)
    # Kept in the database: web and worker share no filesystem in production.
    content = models.BinaryField()
    content_sha256 = models.CharField(max_length=64)
    mapping = models.JSONField(default=dict)
    options = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(models.F("organization"), models.F("created_at").desc(), name="importjob_org_idx")
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class ImportRowError(TenantModel):
    """A row that could not be imported: row number (1 = first data row), column, reason."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=500)
    raw = models.JSONField(default=dict)

    class Meta:
        ordering = ["row_number"]
        indexes = [models.Index(fields=["organization", "job", "row_number"], name="importerror_org_job_idx")]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.message}"
