"""Synthetic organizations full of leads for benchmarks and scale tests, loaded with COPY.

    python manage.py generate_leads --org big --leads 1000000 --activities 5000000 --seed 1 \
        --small-orgs 99 --small-leads 10000 --small-activities 30000

Rows are what the app's own rules would have written: e-mail normalized,
domain / region / segment derived with leads.rules and leads.regions, one
creation StageTransition per lead, and for leads that moved on, the stage
history with ``reached_*_at``, ``closed_at``, amounts and reasons as
funnel.services.stage_move sets them; ``first_contacted_at`` /
``first_meeting_at`` follow the lead's activities as leads.services.activity_log
sets them. The organization (with an admin, a manager and reps, lead settings,
sources, campaigns, industries and monthly spend) is created when missing.

Loading runs as the application role inside tenant_context, so row-level
security and its WITH CHECK apply to every row. PostgreSQL refuses
``COPY … FROM`` into a table with row-level security ("COPY FROM not supported
with row-level security"), so each chunk is COPYed into a temporary staging
table and moved with one ``INSERT … SELECT`` per table. One transaction per
chunk keeps the deferred foreign-key checks of a chunk in memory, not those of
millions of rows. A second run appends to the organization (new e-mails).
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg2 import sql

from funnel.models import StageTransition
from funnel.stages import Stage
from leads.models import (
    INBOUND_CHANNELS,
    MEETING_KINDS,
    OUTBOUND_KINDS,
    REFERRAL_CHANNELS,
    Activity,
    ActivityKind,
    Campaign,
    ChannelType,
    CountryRegion,
    Industry,
    Lead,
    LeadSettings,
    Source,
    SpendEntry,
    Via,
)
from leads.regions import default_region_for
from leads.rules import domain_from, lead_settings, normalize_email, segment_for
from leads.services import default_lawful_basis
from leadtrack.accounts.models import User
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import Role
from leadtrack.tenancy.services import organization_create


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Ada Alan Amara Ben Carla Chen Dana Diego Elena Emil Farah Felix Grace Hana Ivan Jana Jonas Kai Lena "
    "Liam Maya Mateo Nadia Noah Olga Omar Priya Quinn Rosa Sami Tara Tomas Uma Vera Wei Yara Zoe"
)
LAST_NAMES = _words(
    "Adams Baker Costa Diaz Evans Fischer Garcia Haddad Ito Jensen Kowalski Lopez Meyer Nakamura Okafor "
    "Patel Quinn Rossi Silva Tanaka Ueda Varga Weber Xu Young Zimmermann"
)
COMPANY_WORDS = _words(
    "Acme Apex Blue Bright Cedar Core Delta Echo Fusion Granite Harbor Helix Iron Juniper Keystone Lumen "
    "Maple Nimbus Nova Orbit Pine Quantum Redwood Sierra Summit Terra Vertex Willow Zenith"
)
COMPANY_SUFFIXES = ("Labs", "Systems", "Logistics", "Health", "Analytics", "Foods", "Energy", "Robotics")
JOB_TITLES = ("CEO", "CTO", "Head of Operations", "VP Sales", "Procurement Manager", "IT Director", "Founder")
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com")
# (country, weight): a US-heavy B2B mix over every region.
COUNTRIES = (
    ("US", 30),
    ("GB", 10),
    ("DE", 9),
    ("FR", 6),
    ("CA", 6),
    ("NL", 4),
    ("ES", 3),
    ("AU", 5),
    ("IN", 6),
    ("JP", 3),
    ("SG", 2),
    ("BR", 4),
    ("MX", 3),
    ("AE", 2),
    ("ZA", 2),
    ("", 5),
)
INDUSTRIES = (
    "Software",
    "Manufacturing",
    "Healthcare",
    "Retail",
    "Logistics",
    "Finance",
    "Education",
    "Energy",
    "Media",
    "Hospitality",
    "Construction",
    "Agriculture",
)
# (name, channel): the organization's lead sources.
SOURCES = (
    ("Partner referrals", ChannelType.PARTNER_REFERRAL),
    ("Customer referrals", ChannelType.CUSTOMER_REFERRAL),
    ("Website form", ChannelType.WEB_FORM),
    ("Google Ads", ChannelType.PAID),
    ("LinkedIn Ads", ChannelType.PAID),
    ("Trade shows", ChannelType.EVENT),
    ("Outbound SDR", ChannelType.OUTBOUND),
    ("Other", ChannelType.OTHER),
)
SOURCE_WEIGHTS = (10, 6, 22, 18, 10, 8, 20, 6)
# Where each lead ends up, and how much timeline it collects on the way.
FINAL_STAGES = (
    (Stage.LEAD, 40, 1),
    (Stage.MQL, 18, 2),
    (Stage.SQL, 9, 4),
    (Stage.OPPORTUNITY, 6, 6),
    (Stage.WON, 6, 8),
    (Stage.LOST, 6, 6),
    (Stage.DISQUALIFIED, 15, 2),
)
ACTIVITY_KINDS = (
    (ActivityKind.PAGE_VISIT, 30),
    (ActivityKind.EMAIL_SENT, 20),
    (ActivityKind.EMAIL_OPENED, 15),
    (ActivityKind.CALL, 10),
    (ActivityKind.NOTE, 7),
    (ActivityKind.WEB_FORM, 5),
    (ActivityKind.EMAIL_REPLIED, 5),
    (ActivityKind.MEETING, 5),
    (ActivityKind.DEMO, 3),
)
CREATION_VIA = ((Via.UI, 40), (Via.FORM, 25), (Via.IMPORT, 20), (Via.API, 15))
LOST_REASONS = ("Chose a competitor", "No budget", "Timing", "No decision")
DISQUALIFY_REASONS = ("Not a fit", "Student", "Duplicate contact", "No longer at company")
HISTORY_DAYS = 3 * 365
PAGES = ("/", "/pricing", "/product", "/customers", "/contact", "/blog/roi")


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: object) -> str:
    """One field of PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _columns(model, *, skip: Sequence[str] = ()) -> list[str]:
    return [
        field.column
        for field in model._meta.concrete_fields
        if not getattr(field, "generated", False) and field.column not in skip
    ]


def copy_rows(*, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """COPY rows into a staging table and move them into ``table`` with one INSERT … SELECT.

    Runs in the caller's transaction and tenant context: the INSERT is subject
    to row-level security (USING and WITH CHECK) like any write of the app.
    """
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(map(_copy_value, row)))
        buffer.write("\n")
        count += 1
    if not count:
        return 0
    buffer.seek(0)
    staging = sql.Identifier(f"_staging_{table}")
    column_list = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                staging, column_list, sql.Identifier(table)
            )
        )
        cursor.copy_expert(sql.SQL("COPY {} ({}) FROM STDIN").format(staging, column_list), buffer)
        cursor.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                sql.Identifier(table), column_list, column_list, staging
            )
        )
        cursor.execute(sql.SQL("DROP TABLE {}").format(staging))
    return count


class _OrgCatalog:
    """What every generated lead of one organization refers to."""

    def __init__(self, org: Organization, *, members: int, password_hash: str, rng: random.Random):
        self.org = org
        admin_email = f"admin@{org.slug}.bench.example"
        self.admin = self._user(admin_email, "Bench Admin", password_hash)
        people = [(f"manager@{org.slug}.bench.example", "Bench Manager", Role.MANAGER)]
        people += [
            (f"rep{k}@{org.slug}.bench.example", f"{FIRST_NAMES[k % len(FIRST_NAMES)]} Rep", Role.SALES_REP)
            for k in range(1, members + 1)
        ]
        existing = {m.user_id: m for m in Membership.objects.filter(organization=org).select_related("user")}
        if self.admin.pk not in existing:
            Membership.objects.create(organization=org, user=self.admin, role=Role.ADMIN)
        self.owners: list[int] = []
        for email, name, role in people:
            user = self._user(email, name, password_hash)
            if user.pk not in existing:
                Membership.objects.create(organization=org, user=user, role=role)
            self.owners.append(user.pk)
        self.rules: LeadSettings = lead_settings(org=org)
        self.region_overrides = dict(
            CountryRegion.objects.filter(organization=org).values_list("country", "region")
        )
        self.industries = [
            Industry.objects.get_or_create(organization=org, name=name)[0].pk for name in INDUSTRIES
        ]
        self.sources: list[tuple[int, str]] = []
        self.campaigns: dict[int, list[int]] = {}
        for name, channel in SOURCES:
            source, _ = Source.objects.get_or_create(
                organization=org,
                name=name,
                defaults={
                    "channel_type": channel,
                    "is_inbound": channel in INBOUND_CHANNELS,
                    "is_referral": channel in REFERRAL_CHANNELS,
                },
            )
            self.sources.append((source.pk, channel))
            if channel in (ChannelType.PAID, ChannelType.EVENT, ChannelType.WEB_FORM):
                self.campaigns[source.pk] = [
                    Campaign.objects.get_or_create(
                        organization=org,
                        name=f"{name} {year}",
                        defaults={
                            "source": source,
                            "channel_type": channel,
                            "start_date": date(year, 1, 1),
                            "end_date": date(year, 12, 31),
                            "cost": rng.randrange(500_000, 5_000_000),
                            "budget": 6_000_000,
                        },
                    )[0].pk
                    for year in range(date.today().year - 2, date.today().year + 1)
                ]
        if not SpendEntry.objects.filter(organization=org).exists():
            month = date.today().replace(day=1)
            entries = []
            for _ in range(36):
                for source_id, channel in self.sources:
                    if channel in (ChannelType.PAID, ChannelType.EVENT, ChannelType.PARTNER_REFERRAL):
                        entries.append(
                            SpendEntry(
                                organization=org,
                                spent_on=month,
                                amount=rng.randrange(100_000, 2_000_000),
                                source_id=source_id,
                                channel_type=channel,
                                note="monthly spend",
                            )
                        )
                month = (month - timedelta(days=1)).replace(day=1)
            SpendEntry.objects.bulk_create(entries)

    @staticmethod
    def _user(email: str, full_name: str, password_hash: str) -> User:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User(email=email, full_name=full_name, password=password_hash)
            user.save()
        return user


class _LeadGenerator:
    """Rows of leads, their stage histories and their activities, deterministic for a seed."""

    def __init__(self, catalog: _OrgCatalog, rng: random.Random, now: datetime):
        self.c = catalog
        self.rng = rng
        self.now = now
        self.org = catalog.org
        self.lead_columns = _columns(Lead)
        self.activity_columns = _columns(Activity, skip=("id",))
        self.transition_columns = _columns(StageTransition, skip=("id",))
        self._countries = [c for c, _ in COUNTRIES]
        self._country_weights = [w for _, w in COUNTRIES]
        self._stages = [s for s, _, _ in FINAL_STAGES]
        self._stage_weights = [w for _, w, _ in FINAL_STAGES]
        self.activity_weight = {s: w for s, _, w in FINAL_STAGES}
        self._kinds = [k for k, _ in ACTIVITY_KINDS]
        self._kind_weights = [w for _, w in ACTIVITY_KINDS]

    def _later(self, at: datetime, mean_days: float) -> datetime:
        return min(at + timedelta(days=self.rng.expovariate(1 / mean_days)), self.now)

    def lead(self, index: int, lead_id: int, activity_count: int, final_stage: str):
        """(lead row, transition rows, activity rows) for the lead numbered ``index`` in its org."""
        rng, c = self.rng, self.c
        company_no = index // 3
        word = COMPANY_WORDS[company_no % len(COMPANY_WORDS)]
        suffix = COMPANY_SUFFIXES[(company_no // len(COMPANY_WORDS)) % len(COMPANY_SUFFIXES)]
        company = f"{word} {suffix} {company_no}"
        company_domain = f"{word.lower()}{suffix.lower()}{company_no}.example"
        # Distinct first names within one company: (domain, contact name) is unique per org.
        first = FIRST_NAMES[(company_no * 7 + index % 3) % len(FIRST_NAMES)]
        last = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
        draw = rng.random()
        if draw < 0.7:
            email = f"{first}.{last}.{index}@{company_domain}"
        elif draw < 0.9:
            email = f"{first}.{last}.{index}@{FREE_MAIL[index % len(FREE_MAIL)]}"
        else:
            email = ""
        email = normalize_email(email)
        website = f"https://www.{company_domain}" if rng.random() < 0.6 else ""
        country = rng.choices(self._countries, self._country_weights)[0]
        region = (c.region_overrides.get(country) or default_region_for(country)) if country else ""
        employees = int(rng.lognormvariate(4.0, 1.6)) + 1 if rng.random() < 0.85 else None
        source_id, _channel = rng.choices(c.sources, SOURCE_WEIGHTS)[0]
        campaigns = c.campaigns.get(source_id)
        campaign_id = rng.choice(campaigns) if campaigns and rng.random() < 0.7 else None
        owner_id = rng.choice(c.owners) if rng.random() < 0.9 else None
        created_at = self.now - timedelta(days=HISTORY_DAYS * rng.random() ** 0.8)
        created_via = rng.choices([v for v, _ in CREATION_VIA], [w for _, w in CREATION_VIA])[0]

        transitions = [(self.org.pk, lead_id, "", Stage.LEAD, created_at, owner_id, created_via, "")]
        reached: dict[str, datetime] = {}
        expected_amount = won_amount = value_12m = closed_at = None
        close_reason = ""
        at = created_at
        stage = Stage.LEAD

        def move(to: str, reason: str = "") -> None:
            nonlocal at, stage
            at = self._later(at, 12)
            transitions.append((self.org.pk, lead_id, stage, to, at, owner_id, Via.UI, reason))
            stage = to

        ladder = [Stage.MQL, Stage.SQL, Stage.OPPORTUNITY]
        if final_stage in (Stage.MQL, Stage.SQL, Stage.OPPORTUNITY, Stage.WON, Stage.LOST):
            top = Stage.OPPORTUNITY if final_stage in (Stage.WON, Stage.LOST) else final_stage
            steps = ladder[: ladder.index(top) + 1]
            # One in ten skips a rung: a skipped stage counts as reached at the jump.
            if len(steps) > 1 and rng.random() < 0.1:
                steps = steps[1:]
            for step in steps:
                move(step)
                for rung in ladder[: ladder.index(step) + 1]:
                    reached.setdefault(rung, at)
            if top == Stage.OPPORTUNITY:
                expected_amount = rng.randrange(50, 2_000) * 10_000
            if final_stage == Stage.WON:
                move(Stage.WON)
                won_amount = expected_amount
                value_12m = won_amount + rng.randrange(0, 50) * 10_000
                closed_at = at
            elif final_stage == Stage.LOST:
                close_reason = rng.choice(LOST_REASONS)
                move(Stage.LOST, close_reason)
                closed_at = at
        elif final_stage == Stage.DISQUALIFIED:
            if rng.random() < 0.3:
                move(Stage.MQL)
                reached[Stage.MQL] = at
            close_reason = rng.choice(DISQUALIFY_REASONS)
            move(Stage.DISQUALIFIED, close_reason)

        activities = []
        first_contacted = first_meeting = None
        horizon = max((self.now - created_at).total_seconds(), 1.0)
        for _ in range(activity_count):
            kind = rng.choices(self._kinds, self._kind_weights)[0]
            occurred_at = created_at + timedelta(seconds=horizon * rng.random() ** 1.5)
            by_person = kind in OUTBOUND_KINDS or kind in (ActivityKind.NOTE, ActivityKind.EMAIL_REPLIED)
            url = (
                f"https://www.{self.org.slug}.example{rng.choice(PAGES)}"
                if kind
                in (
                    ActivityKind.PAGE_VISIT,
                    ActivityKind.WEB_FORM,
                )
                else ""
            )
            paid = url and rng.random() < 0.3
            via = Via.UI if by_person else (Via.FORM if kind == ActivityKind.WEB_FORM else Via.SYSTEM)
            activities.append(
                (
                    self.org.pk,
                    lead_id,
                    kind,
                    occurred_at,
                    owner_id if by_person else None,
                    via,
                    f"{ActivityKind(kind).label} with {first}" if by_person else "",
                    "Talked about next steps." if kind in (ActivityKind.CALL, ActivityKind.NOTE) else "",
                    url,
                    "https://www.google.com/" if paid else "",
                    "google" if paid else "",
                    "cpc" if paid else "",
                    f"spring-{occurred_at.year}" if paid else "",
                    "",
                    "",
                    occurred_at,
                )
            )
            if kind in OUTBOUND_KINDS and (first_contacted is None or occurred_at < first_contacted):
                first_contacted = occurred_at
            if kind in MEETING_KINDS and (first_meeting is None or occurred_at < first_meeting):
                first_meeting = occurred_at

        lead = {
            "id": lead_id,
            "organization_id": self.org.pk,
            "company": company,
            "contact_name": f"{first} {last}",
            "email": email,
            "phone": f"+1 555 {index % 10_000:04d}" if rng.random() < 0.6 else "",
            "job_title": rng.choice(JOB_TITLES),
            "website": website,
            "domain": domain_from(website=website, email=email),
            "country": country,
            "region": region,
            "industry_id": rng.choice(c.industries) if rng.random() < 0.8 else None,
            "employees": employees,
            "segment": segment_for(employees=employees, rules=c.rules),
            "source_id": source_id,
            "campaign_id": campaign_id,
            "owner_id": owner_id,
            "stage": stage,
            "expected_amount": expected_amount,
            "currency": self.org.currency,
            "won_amount": won_amount,
            "value_12m": value_12m,
            "score": rng.randrange(0, 101),
            "external_id": f"crm-{index}" if rng.random() < 0.3 else "",
            "notes": "",
            "created_at": created_at,
            "updated_at": max([created_at, at, *(a[3] for a in activities)]),
            "reached_mql_at": reached.get(Stage.MQL),
            "reached_sql_at": reached.get(Stage.SQL),
            "reached_opportunity_at": reached.get(Stage.OPPORTUNITY),
            "closed_at": closed_at,
            "close_reason": close_reason,
            "first_contacted_at": first_contacted,
            "first_meeting_at": first_meeting,
            "version": len(transitions),
            "deleted_at": None,
            "merged_into_id": None,
            # Generated leads come from imports, the API and referrals: no consent box was ticked.
            "lawful_basis": default_lawful_basis(consent=None),
            "marketing_withdrawn_at": None,
        }
        return [lead[col] for col in self.lead_columns], transitions, activities


def generate_for_org(
    *,
    slug: str,
    leads: int,
    activities: int,
    seed: int,
    chunk: int,
    password_hash: str,
    members: int,
    log=None,
) -> dict[str, int]:
    """Create ``slug`` if missing and append ``leads`` leads with ``activities`` activities."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        admin = _OrgCatalog._user(f"admin@{slug}.bench.example", "Bench Admin", password_hash)
        organization = organization_create(slug=slug, name=f"Bench {slug}", admin=admin)
    with tenant_context(organization):
        catalog = _OrgCatalog(organization, members=members, password_hash=password_hash, rng=rng)
        offset = Lead.unscoped.filter(organization=organization).count()
    generator = _LeadGenerator(catalog, rng, now=datetime.now(UTC) - timedelta(minutes=10))
    totals = {"leads": 0, "transitions": 0, "activities": 0}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('leads_lead', 'id')")
        sequence = cursor.fetchone()[0]
    done = 0
    while done < leads:
        size = min(chunk, leads - done)
        # This chunk's share of the activities, spread by how far each lead got in the funnel.
        quota = (done + size) * activities // leads - done * activities // leads if leads else 0
        finals = rng.choices(generator._stages, generator._stage_weights, k=size)
        weights = [generator.activity_weight[s] for s in finals]
        counts = [0] * size
        for k in rng.choices(range(size), weights, k=quota):
            counts[k] += 1
        with tenant_context(organization), connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, size])
            ids = [row[0] for row in cursor.fetchall()]
            lead_rows, transition_rows, activity_rows = [], [], []
            for k in range(size):
                row, transitions, acts = generator.lead(offset + done + k, ids[k], counts[k], finals[k])
                lead_rows.append(row)
                transition_rows += transitions
                activity_rows += acts
            totals["leads"] += copy_rows(
                table=Lead._meta.db_table, columns=generator.lead_columns, rows=lead_rows
            )
            totals["transitions"] += copy_rows(
                table=StageTransition._meta.db_table,
                columns=generator.transition_columns,
                rows=transition_rows,
            )
            totals["activities"] += copy_rows(
                table=Activity._meta.db_table, columns=generator.activity_columns, rows=activity_rows
            )
        done += size
        if log:
            log(f"  {slug}: {done:,}/{leads:,} leads")
    return totals


class Command(BaseCommand):
    help = "Generate synthetic leads, stage histories and activities with COPY (benchmarks, scale tests)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--org", required=True, help="slug of the (large) organization; created if missing"
        )
        parser.add_argument("--leads", type=int, required=True)
        parser.add_argument("--activities", type=int, default=0)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--small-orgs", type=int, default=0, help="also this many small organizations")
        parser.add_argument("--small-leads", type=int, default=1000, help="leads per small organization")
        parser.add_argument("--small-activities", type=int, default=3000, help="activities per small one")
        parser.add_argument("--small-prefix", default=None, help="slug prefix of the small ones (<org>-s)")
        parser.add_argument("--chunk", type=int, default=20_000, help="leads per transaction")
        parser.add_argument("--members", type=int, default=8, help="sales reps in the large organization")
        parser.add_argument(
            "--password", default=None, help="password of the generated people (default: unusable)"
        )

    def handle(self, *args, **options):
        if options["leads"] < 0 or options["activities"] < 0 or options["chunk"] < 1:
            raise CommandError("--leads and --activities must be ≥ 0 and --chunk ≥ 1")
        password_hash = make_password(options["password"])  # None → an unusable password
        plan = [
            (options["org"], options["leads"], options["activities"], options["seed"], options["members"])
        ]
        prefix = options["small_prefix"] or f"{options['org']}-s"
        width = max(3, len(str(options["small_orgs"])))
        plan += [
            (
                f"{prefix}{k:0{width}d}",
                options["small_leads"],
                options["small_activities"],
                options["seed"] * 100_003 + k,
                2,
            )
            for k in range(1, options["small_orgs"] + 1)
        ]
        started = time.monotonic()
        grand = {"leads": 0, "transitions": 0, "activities": 0}
        for slug, leads, activities, seed, members in plan:
            org_started = time.monotonic()
            totals = generate_for_org(
                slug=slug,
                leads=leads,
                activities=activities,
                seed=seed,
                chunk=options["chunk"],
                password_hash=password_hash,
                members=members,
                log=self.stdout.write if leads > options["chunk"] else None,
            )
            for key, value in totals.items():
                grand[key] += value
            seconds = time.monotonic() - org_started
            if len(plan) <= 10 or slug == options["org"]:
                self.stdout.write(
                    f"{slug}: {totals['leads']:,} leads, {totals['transitions']:,} stage transitions, "
                    f"{totals['activities']:,} activities in {seconds:.1f} s"
                )
        seconds = time.monotonic() - started
        rows = sum(grand.values())
        self.stdout.write(
            f"generated {len(plan)} organization(s): {grand['leads']:,} leads, "
            f"{grand['transitions']:,} transitions, {grand['activities']:,} activities; "
            f"{rows:,} rows in {seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)"
        )
