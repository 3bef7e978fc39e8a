"""Rule-based lead scoring: the organization's rules, each lead's explained score and its history,
the BANT checklist, and the progress of bulk rescorings (how a score is computed: services.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from leads.models import ActivityKind, Industry, Lead, Segment
from leads.regions import Region
from leadtrack.tenancy.models import TenantModel


class ScoringSettings(TenantModel):
    """Per organization: the automatic MQL switch and threshold, and the BANT rule."""

    auto_mql_enabled = models.BooleanField(
        default=False, help_text="Promote a lead at stage Lead to MQL when its score reaches the threshold."
    )
    mql_threshold = models.PositiveIntegerField(default=60, validators=[MaxValueValidator(100_000)])
    # "Meets qualification criteria": at least this many of budget, authority, need, timeline ticked.
    bant_required = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="scoring_settings_one_per_org")]

    def __str__(self) -> str:
        return f"Scoring settings of {self.organization_id}"


class RuleKind(models.TextChoices):
    INDUSTRY = "industry", "Industry is"
    SEGMENT = "segment", "Segment is"
    REGION = "region", "Region is"
    EMPLOYEES = "employees", "Company size (employees) between"
    SENIORITY = "seniority", "Job title contains a seniority keyword"
    ACTIVITY = "activity", "Activity logged"


FIT_KINDS = frozenset(
    {RuleKind.INDUSTRY, RuleKind.SEGMENT, RuleKind.REGION, RuleKind.EMPLOYEES, RuleKind.SENIORITY}
)


class ScoringRule(TenantModel):
    """One line of the scoring model. Fit rules test one attribute of the lead; behaviour rules
    (``activity``) count matching activities, each worth ``points`` halved every
    ``half_life_days``, the ``max_count`` most recent ones at most."""

    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    points = models.IntegerField(validators=[MinValueValidator(-1000), MaxValueValidator(1000)])
    industry = models.ForeignKey(Industry, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    region = models.CharField(max_length=20, choices=Region.choices, blank=True)
    employees_min = models.PositiveIntegerField(null=True, blank=True)
    employees_max = models.PositiveIntegerField(null=True, blank=True)
    title_keywords = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated words matched as whole words, e.g. VP, Director.",
    )
    activity_kind = models.CharField(max_length=20, choices=ActivityKind.choices, blank=True)
    url_contains = models.CharField(
        max_length=200, blank=True, help_text="Only activities whose URL contains this text, e.g. /pricing."
    )
    half_life_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Points halve every this many days; blank for no decay.",
    )
    max_count = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="How many matching activities count at most (the most recent ones).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["organization", "position"], name="scoringrule_org_pos_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_behaviour(self) -> bool:
        return self.kind == RuleKind.ACTIVITY


class ScoreReason(models.TextChoices):
    LEAD_CREATED = "lead_created", "lead created"
    LEAD_EDITED = "lead_edited", "lead edited"
    ACTIVITY_LOGGED = "activity_logged", "activity logged"
    RULES_CHANGED = "rules_changed", "rules changed"
    DECAY = "decay", "points decayed over time"


class LeadScore(TenantModel):
    """A lead's current explanation: the rules that contributed and their points (after decay).
    The points add up to ``Lead.score``, the denormalized total lists sort by."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    score = models.IntegerField(default=0)
    # Part of the score from behaviour rules: the nightly decay rescoring reads only leads with some.
    behaviour_points = models.IntegerField(default=0)
    # [{"rule_id", "name", "category": "fit"|"behaviour", "points", "detail"}], in rule order.
    explanation = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "lead"], name="leadscore_one_per_lead")
        ]
        indexes = [
            models.Index(
                fields=["organization", "id"],
                condition=~models.Q(behaviour_points=0),
                name="leadscore_org_behaviour_idx",
            )
        ]

    def __str__(self) -> str:
        return f"score {self.score} of lead {self.lead_id}"


class ScoreChange(TenantModel):
    """Append-only history of a lead's score: the new score, when and why."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    score = models.IntegerField()
    previous_score = models.IntegerField()
    reason = models.CharField(max_length=20, choices=ScoreReason.choices)

    class Meta:
        indexes = [
            models.Index(
                models.F("organization"), models.F("lead"), models.F("at").desc(), name="scorechange_lead_idx"
            )
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id}: {self.previous_score} → {self.score}"


class BantChecklist(TenantModel):
    """What a rep confirmed about the lead: budget, authority, need, timeline."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    budget = models.BooleanField(default=False)
    authority = models.BooleanField(default=False)
    need = models.BooleanField(default=False)
    timeline = models.BooleanField(default=False)
    # Against the organization's BANT rule; recomputed when the rule changes (the metric reads it).
    meets_criteria = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "lead"], name="bant_one_per_lead")]

    def __str__(self) -> str:
        return f"BANT of lead {self.lead_id}"

    @property
    def ticked(self) -> int:
        return sum((self.budget, self.authority, self.need, self.timeline))


class RescoreRun(TenantModel):
    """A bulk rescoring, in chunks: all live leads (rules changed, "rescore all") or the leads
    holding behaviour points (nightly decay). Its counters are the progress the page shows."""

    class Scope(models.TextChoices):
        ALL = "all", "All leads"
        BEHAVIOUR = "behaviour", "Leads with behaviour points"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        SUPERSEDED = "superseded", "Superseded by a newer run"

    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.ALL)
    reason = models.CharField(max_length=20, choices=ScoreReason.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    # Keyset cursor: the chunk after this lead id is next.
    last_lead_id = models.BigIntegerField(default=0)
    # The clock of the run: every chunk scores as of the same moment.
    as_of = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(models.F("organization"), models.F("started_at").desc(), name="rescorerun_org_idx")
        ]

    def __str__(self) -> str:
        return f"rescore {self.scope} {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))
