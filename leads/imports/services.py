"""Writing many leads at once: the upsert shared by the importer and the REST bulk endpoint, and import jobs.

Two paths with the same results for the same rows:

- ``leads_upsert``: row by row through leads.services (lead_create, lead_update) and
  funnel.services.stage_move; every rule applies as written there. Correct, ~1-2k rows/s.
- ``leads_upsert_bulk``: the same RowParser per row, then COPY into a temporary staging
  table and one set-based INSERT … SELECT with de-duplication against existing leads
  (the keys of leads.services.duplicate_of) and the creation transitions written
  set-based. Rows that update an existing lead, carry history or carry the version they
  expect go through the per-row path, so the stage rules and the version check (a row never
  overwrites a lead changed since its writer read it) still live in one place.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from funnel.models import StageTransition
from funnel.routing.services import lead_routing_record_batch, leads_route_batch
from funnel.services import stage_move
from funnel.stages import LADDER, Stage
from leads import signals
from leads.imports.mapping import HISTORY_TARGETS, TARGET_LABELS, suggest_mapping
from leads.imports.parsing import (
    NAMED_MODELS,
    ParsedRow,
    RowParser,
    Table,
    as_text,
    guess_channel,
    read_table,
    record_identity_keys,
)
from leads.models import INBOUND_CHANNELS, REFERRAL_CHANNELS, ImportJob, ImportRowError, Lead, Source, Via
from leads.services import DuplicateLeadError, LeadError, StaleLeadError, lead_create, lead_update
from leadtrack.accounts.models import User
from leadtrack.audit.models import Action
from leadtrack.audit.services import Event, audit_record_many
from leadtrack.tenancy.models import Organization

logger = logging.getLogger(__name__)

CREATED, UPDATED, DUPLICATE, ERROR = "created", "updated", "duplicate", "error"
MATCH_KEYS = ("external_id", "email")


@dataclass
class RowResult:
    index: int
    status: str  # "created" | "updated" | "duplicate" | "error"
    lead_id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


class _AllOrNothingRollback(Exception):
    pass


# --- Names (industry, source, campaign) ------------------------------------------------------------


class NameResolver:
    """Industry, source and campaign by name, case-insensitively; created when missing (and remembered,
    so the caller can say which were created)."""

    def __init__(self, *, org: Organization):
        self.org = org
        self._cache: dict[tuple[str, str], Any] = {}
        self.created: dict[str, list[str]] = {kind: [] for kind in NAMED_MODELS}

    def get(self, kind: str, name: str):
        key = (kind, name.lower())
        if key not in self._cache:
            model = NAMED_MODELS[kind]
            instance = model.objects.filter(organization=self.org, name__iexact=name).first()
            if instance is None:
                extra = {}
                if model is Source:
                    channel = guess_channel(name)
                    extra = {
                        "channel_type": channel,
                        "is_inbound": channel in INBOUND_CHANNELS,
                        "is_referral": channel in REFERRAL_CHANNELS,
                    }
                try:
                    with transaction.atomic():
                        instance = model.objects.create(organization=self.org, name=name, **extra)
                    self.created[kind].append(name)
                except IntegrityError:  # created meanwhile by another writer
                    instance = model.objects.get(organization=self.org, name__iexact=name)
            self._cache[key] = instance
        return self._cache[key]

    def ids(self, kind: str, names: set[str]) -> dict[str, int]:
        return {name.lower(): self.get(kind, name).pk for name in names}

    def resolve_in_order(self, rows: Iterable[ParsedRow]) -> None:
        """Find or create every name ``rows`` use, kind by kind in NAMED_MODELS' order and by name.

        Chunks of one import run side by side, each in its transaction: a name one of them created
        holds the others back until it commits. Taken in one order by every chunk, the waits never
        form a cycle (a deadlock would fail a chunk).
        """
        rows = list(rows)
        for kind in NAMED_MODELS:
            for name in sorted({row.values[kind] for row in rows if kind in row.values}, key=str.lower):
                self.get(kind, name)


def _service_values(row: ParsedRow, resolver: NameResolver) -> dict[str, Any]:
    values = dict(row.values)
    for kind in NAMED_MODELS:
        if kind in values:
            values[kind] = resolver.get(kind, values[kind])
    return values


# --- Duplicates inside one batch ----------------------------------------------------------------------


def first_duplicates(keys_per_row: Sequence[list[tuple[str, str]] | None]) -> dict[int, tuple[str, int]]:
    """{index: (field, index of the earlier row)} for rows sharing a de-duplication key with an earlier
    row; ``None`` for a row that takes no part."""
    first_seen: dict[str, int] = {}
    duplicates: dict[int, tuple[str, int]] = {}
    for index, keys in enumerate(keys_per_row):
        if keys is None:
            continue
        for field_name, key in keys:
            if key in first_seen:
                duplicates[index] = (field_name, first_seen[key])
                break
        else:
            for _, key in keys:
                first_seen[key] = index
    return duplicates


def batch_duplicates(parsed: Sequence[ParsedRow]) -> dict[int, tuple[str, int]]:
    """Duplicates within one batch of parsed rows (rows with errors take no part)."""
    return first_duplicates([None if row.errors else row.identity_keys() for row in parsed])


def duplicate_in_batch_error(field_name: str, first_row: int) -> dict[str, list[str]]:
    label = {
        "email": "e-mail",
        "contact_name": "company domain and contact name",
        "external_id": "external id",
    }
    return {field_name: [f"Same {label[field_name]} as row {first_row} of this file."]}


# --- Per-row path ---------------------------------------------------------------------------------------

_DUPLICATE_REASON_FIELD = {
    "e-mail": "email",
    "company domain and contact name": "contact_name",
    "external id": "external_id",
}
_REACHED_FIELD_OF = {
    Stage.MQL: "reached_mql_at",
    Stage.SQL: "reached_sql_at",
    Stage.OPPORTUNITY: "reached_opportunity_at",
}


def _errors_of(exc: ValidationError, *, default_field: str = NON_FIELD_ERRORS) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: list(messages) for name, messages in exc.message_dict.items()}
    return {default_field: list(exc.messages)}


def _match_existing(*, org: Organization, row: ParsedRow, match_on: Sequence[str]) -> Lead | None:
    # Each key has a unique index over live leads, so at most one matches: no ORDER BY (which makes
    # a small tenant's plan walk its whole (organization, id) index), and the index's own column and
    # condition, so this is an index lookup under row-level security (Lead.email_lower says why).
    live = Lead.objects.filter(organization=org, deleted_at__isnull=True).order_by()
    for key in match_on:
        if key == "external_id" and row.values.get("external_id"):
            matches = live.exclude(external_id="").filter(external_id=row.values["external_id"])
        elif key == "email" and row.derived.get("email"):
            matches = live.exclude(email="").filter(email_lower=row.derived["email"])
        else:
            continue
        found = next(iter(matches[:1]), None)
        if found is not None:
            return found
    return None


def _history_moves(*, history: Mapping[str, Any], created_at: datetime) -> list[tuple[str, datetime, str]]:
    """The dated stage moves a row's history asks for, in order: (to_stage, at, field reported on errors).

    Each dated rung (MQL, SQL, Opportunity) below the final stage is a move at its date; the final stage
    follows at its close date, or at the latest date known; a skipped rung counts as reached at the
    time of the jump (the stage service does that).
    """
    target = history.get("stage")
    dated = [(stage, history[name], name) for stage, name in _REACHED_FIELD_OF.items() if history.get(name)]
    if target is None:
        target = dated[-1][0] if dated else Stage.LEAD
    reach = {Stage.LOST: LADDER.index(Stage.OPPORTUNITY), Stage.DISQUALIFIED: LADDER.index(Stage.OPPORTUNITY)}
    top = reach[target] if target in reach else LADDER.index(Stage(target))
    moves: list[tuple[str, datetime, str]] = []
    latest = created_at
    for stage, at, name in dated:
        if LADDER.index(stage) > top:
            raise ValidationError(
                {
                    "stage": f"The file dates the lead reaching {Stage(stage).label}, "
                    f"past its stage {Stage(target).label}."
                }
            )
        moves.append((stage, at, name))
        latest = max(latest, at)
    # An open deal's close date in a CRM is the expected one: only a closed stage uses it.
    closed_at = history.get("closed_at") if target in (Stage.WON, Stage.LOST, Stage.DISQUALIFIED) else None
    if target in (Stage.MQL, Stage.SQL, Stage.OPPORTUNITY) and (not moves or moves[-1][0] != target):
        moves.append((target, latest, "stage"))
    if target == Stage.LOST and (not moves or moves[-1][0] != Stage.OPPORTUNITY):
        moves.append((Stage.OPPORTUNITY, closed_at or latest, "stage"))
    if target in (Stage.WON, Stage.LOST, Stage.DISQUALIFIED):
        moves.append((target, closed_at or latest, "closed_at" if closed_at else "stage"))
    return moves


def _write_history(
    *, org: Organization, actor: User | None, lead: Lead, history: Mapping[str, Any], via: str
) -> None:
    for to_stage, at, field_name in _history_moves(history=history, created_at=lead.created_at):
        reason = (
            history.get("close_reason", "") if to_stage in (Stage.WON, Stage.LOST, Stage.DISQUALIFIED) else ""
        )
        # A file with only the won amount: the opportunity was expected at that amount.
        amount = lead.won_amount if to_stage == Stage.OPPORTUNITY and lead.expected_amount is None else None
        try:
            stage_move(
                org=org,
                actor=actor,
                lead_id=lead.pk,
                to_stage=to_stage,
                reason=reason,
                at=at,
                amount=amount,
                via=via,
            )
        except ValidationError as exc:
            errors = _errors_of(exc)
            renamed = {
                "at": field_name,
                "to_stage": "stage",
                "reason": "close_reason",
                "amount": "won_amount" if to_stage == Stage.WON else "expected_amount",
            }
            raise ValidationError({renamed.get(k, k): v for k, v in errors.items()}) from exc


def _earliest_history_date(history: Mapping[str, Any]) -> datetime | None:
    if history.get("created_at"):
        return history["created_at"]
    dates = [value for name, value in history.items() if isinstance(value, datetime)]
    return min(dates) if dates else None


def _upsert_one(
    *,
    org: Organization,
    actor: User | None,
    index: int,
    row: ParsedRow,
    via: str,
    match_on: Sequence[str],
    resolver: NameResolver,
) -> RowResult:
    """One parsed, valid row through leads.services (and the stage service for history).

    The only place an import row updates an existing lead, for both paths. A row with an
    ``expected_version`` updates its matched lead only at that version (lead_update checks it
    under the row lock); otherwise, or when it matches no live lead, the row is an error on
    ``version`` and nothing is written.
    """
    # Names are resolved (and created) outside the row's savepoint: a rolled-back row must not
    # take a source that later rows reuse with it.
    values = _service_values(row, resolver)
    try:
        existing = _match_existing(org=org, row=row, match_on=match_on)
        if existing is None and row.expected_version is not None:
            # A version means "update what I read": creating instead would bring back a lead
            # deleted or merged away since.
            return RowResult(
                index=index,
                status=ERROR,
                errors={
                    "version": [
                        "No live lead matches this row by match_on; a version is only for updating a lead."
                    ]
                },
            )
        if existing is not None:
            try:
                with transaction.atomic():
                    lead = lead_update(
                        org=org,
                        actor=actor,
                        lead_id=existing.pk,
                        data=values,
                        expected_version=row.expected_version,
                        via=via,
                    )
            except StaleLeadError:
                return RowResult(
                    index=index,
                    status=ERROR,
                    lead_id=existing.pk,
                    errors={
                        "version": [
                            f"Lead {existing.pk} changed since version {row.expected_version}; "
                            "this row was not written. Read the lead again and retry."
                        ]
                    },
                )
            return RowResult(index=index, status=UPDATED, lead_id=lead.pk)
        with transaction.atomic():
            lead = lead_create(
                org=org,
                actor=actor,
                data=values,
                via=via,
                created_at=_earliest_history_date(row.history),
            )
            if row.carries_history:
                _write_history(org=org, actor=actor, lead=lead, history=row.history, via=via)
        return RowResult(index=index, status=CREATED, lead_id=lead.pk)
    except DuplicateLeadError as exc:
        return RowResult(
            index=index,
            status=DUPLICATE,
            lead_id=exc.existing.pk,
            errors={_DUPLICATE_REASON_FIELD.get(exc.reason, NON_FIELD_ERRORS): [exc.message]},
        )
    except ValidationError as exc:
        return RowResult(index=index, status=ERROR, errors=_errors_of(exc))
    except LeadError as exc:
        return RowResult(index=index, status=ERROR, errors={NON_FIELD_ERRORS: [exc.message]})


def _check_match_on(match_on: Sequence[str]) -> None:
    unknown = set(match_on) - set(MATCH_KEYS)
    if unknown:
        raise ValueError(f"match_on accepts {MATCH_KEYS}, not {sorted(unknown)}")


def _finish(results: list[RowResult], *, all_or_nothing: bool) -> None:
    if all_or_nothing and any(result.status == ERROR for result in results):
        raise _AllOrNothingRollback


def _all_or_nothing_results(results: list[RowResult]) -> list[RowResult]:
    message = "Not imported: another row has errors and the batch is all or nothing."
    return [
        result
        if result.status == ERROR
        else RowResult(index=result.index, status=ERROR, errors={NON_FIELD_ERRORS: [message]})
        for result in results
    ]


def _prepare(
    *, org: Organization, rows: Sequence[Mapping[str, Any]], allow_history: bool
) -> tuple[list[ParsedRow], dict[int, RowResult]]:
    parser = RowParser(org=org, allow_history=allow_history)
    parsed = [parser.parse(row) for row in rows]
    failed = {
        index: RowResult(index=index, status=ERROR, errors=row.errors)
        for index, row in enumerate(parsed)
        if row.errors
    }
    for index, (field_name, first) in batch_duplicates(parsed).items():
        failed[index] = RowResult(
            index=index, status=ERROR, errors=duplicate_in_batch_error(field_name, first + 1)
        )
    return parsed, failed


def _announce_import_batch(*, org: Organization, via: str) -> None:
    """After an import batch commits (after its leads' lead_created or leads_created): listeners
    that batch, like scoring, take the whole batch at once instead of one lead at a time."""
    if via == Via.IMPORT:
        transaction.on_commit(lambda: signals.leads_imported.send(sender=Lead, organization_id=org.pk))


def leads_upsert(
    *,
    org: Organization,
    actor: User | None,
    rows: Sequence[Mapping[str, Any]],
    via: str,
    match_on: Sequence[str] = ("external_id", "email"),
    allow_history: bool = False,
    all_or_nothing: bool = False,
) -> list[RowResult]:
    """Create or update leads from raw rows (field name → value), one result per row, in order.

    - A row matching a live lead on a ``match_on`` key (external id, then e-mail) updates it
      ("updated"); ``match_on=()`` never updates. A row that would duplicate a live lead by
      leads.services.duplicate_of is not written ("duplicate", ``lead_id`` of the existing lead).
    - A row with ``version`` (the lead's version as its writer read it) updates its matched lead only
      if that is still the lead's version; else, or if it matches no live lead, the row is an error
      on ``version`` (``lead_id`` of the lead when one matched) and nothing is written. Rows without
      ``version`` update whatever the lead holds now.
    - Two rows of the same batch with the same key: the later one is an error naming its row.
    - ``allow_history``: rows may carry stage, created_at, reached_*_at, closed_at and
      close_reason; the stage service writes the transitions dated as given (new leads only).
    - A failed row never blocks the others, unless ``all_or_nothing``: then any error rolls
      every row back and every result is an error.
    - Industries, sources and campaigns named in rows are created when missing.
    Must run inside the organization's tenant context.
    """
    _check_match_on(match_on)
    parsed, failed = _prepare(org=org, rows=rows, allow_history=allow_history)
    resolver = NameResolver(org=org)
    results: list[RowResult] = []
    try:
        with transaction.atomic():
            for index, row in enumerate(parsed):
                result = failed.get(index) or _upsert_one(
                    org=org, actor=actor, index=index, row=row, via=via, match_on=match_on, resolver=resolver
                )
                results.append(result)
            _finish(results, all_or_nothing=all_or_nothing)
    except _AllOrNothingRollback:
        return _all_or_nothing_results(results)
    _announce_import_batch(org=org, via=via)
    return results


# --- Set-based path ----------------------------------------------------------------------------------

_STAGE_TABLE = "lead_import_stage"
# Lead columns written by the set-based path; search_vector is generated by PostgreSQL.
_LEAD_FIELDS = [f for f in Lead._meta.concrete_fields if not f.generated]


def _copy_value(value: Any) -> str:
    """One value in PostgreSQL's CSV COPY format: unquoted empty = NULL, quoted = text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return '"' + str(value).replace('"', '""') + '"'


# The staged columns the de-duplication UPDATEs compare, staged even when every row agrees on them.
_MATCH_COLUMNS = frozenset({"email", "domain", "contact_name", "external_id"})


def _staged_and_constant(
    rows: Sequence[Mapping[str, Any]], fields: Sequence[Any]
) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """Split the lead fields of a batch: (fields whose value differs between rows, which go through
    COPY; (field, value) for the others, one parameter each in the INSERT). Most of a lead's 38
    columns are the model's defaults, the organization or the batch's time in every row: staging
    them made a quarter of a chunk's Python time (formatting 380,000 COPY values per 10,000 rows)."""
    staged, constant = [], []
    for f in fields:
        column = list(map(itemgetter(f.attname), rows))
        if f.attname in _MATCH_COLUMNS or column.count(column[0]) != len(column):
            staged.append(f)
        else:
            constant.append((f, column[0]))
    return staged, constant


def _new_lead_defaults(*, org: Organization, now: datetime) -> dict[str, Any]:
    """Column values every new lead starts from (the model's defaults), computed once per batch."""
    defaults = {f.attname: f.get_default() for f in _LEAD_FIELDS if f.attname != "id"}
    return {**defaults, "organization_id": org.pk, "stage": Stage.LEAD, "created_at": now, "updated_at": now}


def _lead_row_values(
    *, defaults: dict[str, Any], row: ParsedRow, name_ids: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """Column values of a new lead from a parsed row: what lead_create would save."""
    values = dict(defaults)
    for name, value in row.values.items():
        if name in NAMED_MODELS:
            values[f"{name}_id"] = name_ids[name][value.lower()]
        elif name == "owner":
            values["owner_id"] = value.pk
        else:
            values[name] = value
    values.update(row.derived)
    if "created_at" in row.history:
        values["created_at"] = row.history["created_at"]
    return values


def _insert_set_based(
    *,
    org: Organization,
    actor: User | None,
    candidates: dict[int, ParsedRow],
    via: str,
    match_on: Sequence[str],
    resolver: NameResolver,
) -> tuple[dict[int, RowResult], list[int]]:
    """Insert the candidates that match no live lead. Returns (results, indexes for the per-row path:
    rows that update an existing lead, or lost a race to a concurrent writer)."""
    if not candidates:
        return {}, []
    name_ids = {
        kind: resolver.ids(kind, {row.values[kind] for row in candidates.values() if kind in row.values})
        for kind in NAMED_MODELS
    }
    now = timezone.now()
    lead_table = Lead._meta.db_table
    defaults = _new_lead_defaults(org=org, now=now)
    rows_values = {
        index: _lead_row_values(defaults=defaults, row=row, name_ids=name_ids)
        for index, row in candidates.items()
    }
    # Routing rules give owners to the rows without one, the whole batch at once (funnel/routing).
    routing = dict(zip(rows_values, leads_route_batch(org=org, rows=list(rows_values.values())), strict=True))
    staged, constant = _staged_and_constant(
        list(rows_values.values()), [f for f in _LEAD_FIELDS if f.attname != "id"]
    )
    staged_names = [f.attname for f in staged]
    staged_list = ", ".join(f'"{f.column}"' for f in staged)
    column_list = ", ".join(f'"{f.column}"' for f in (*staged, *(f for f, _ in constant)))
    select_list = ", ".join(
        [
            *(f's."{f.column}"' for f in staged),
            *(f"CAST(%(c{n})s AS {f.db_type(connection)})" for n, (f, _) in enumerate(constant)),
        ]
    )
    constant_params = {
        f"c{n}": f.get_db_prep_save(value, connection) for n, (f, value) in enumerate(constant)
    }
    lines = [
        ",".join([str(index), *(_copy_value(values[name]) for name in staged_names)])
        for index, values in rows_values.items()
    ]
    copy_data = io.StringIO("\n".join(lines) + "\n")

    results: dict[int, RowResult] = {}
    per_row: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGE_TABLE} AS SELECT 0::int AS row_index, id, {staged_list} "
            f"FROM {lead_table} WITH NO DATA"
        )
        # Ids are drawn while copying, so each staged row knows the id its lead will get.
        cursor.execute(
            f"ALTER TABLE {_STAGE_TABLE} ADD COLUMN match_id bigint, ADD COLUMN match_kind text, "
            "ADD COLUMN match_reason text, "
            "ALTER COLUMN id SET DEFAULT nextval(pg_get_serial_sequence(%s, 'id'))",
            [lead_table],
        )
        cursor.copy_expert(
            f"COPY {_STAGE_TABLE} (row_index, {staged_list}) FROM STDIN WITH (FORMAT csv)",
            copy_data,
        )
        cursor.execute(f"ANALYZE {_STAGE_TABLE}")
        live = "l.organization_id = %(org)s AND l.deleted_at IS NULL"
        rules = []
        # The rows that match on a match_on key update that lead (per-row path), as leads_upsert does.
        for key in match_on:
            if key == "external_id":
                rules.append(
                    (
                        "update",
                        "",
                        "s.external_id <> '' AND l.external_id <> '' AND l.external_id = s.external_id",
                    )
                )
            elif key == "email":
                rules.append(("update", "", "s.email <> '' AND l.email <> '' AND l.email_lower = s.email"))
        # Then leads.services.duplicate_of, in its order.
        rules += [
            ("duplicate", "e-mail", "s.email <> '' AND l.email <> '' AND l.email_lower = s.email"),
            (
                "duplicate",
                "company domain and contact name",
                "s.domain <> '' AND s.contact_name <> '' AND l.domain <> '' AND l.contact_name <> '' "
                "AND l.domain = s.domain AND l.contact_name_lower = lower(s.contact_name)",
            ),
            (
                "duplicate",
                "external id",
                "s.external_id <> '' AND l.external_id <> '' AND l.external_id = s.external_id",
            ),
        ]
        for kind, reason, condition in rules:
            cursor.execute(
                f"UPDATE {_STAGE_TABLE} s SET match_id = l.id, match_kind = %(kind)s, "
                f"match_reason = %(reason)s FROM {lead_table} l "
                f"WHERE s.match_id IS NULL AND {live} AND {condition}",
                {"org": org.pk, "kind": kind, "reason": reason},
            )
        # New leads and their creation transitions in one statement.
        cursor.execute(
            f"WITH inserted AS (INSERT INTO {lead_table} (id, {column_list}) "
            f"SELECT s.id, {select_list} FROM {_STAGE_TABLE} s WHERE s.match_id IS NULL "
            "ORDER BY s.row_index ON CONFLICT DO NOTHING RETURNING id, organization_id, created_at) "
            f"INSERT INTO {StageTransition._meta.db_table} "
            "(organization_id, lead_id, from_stage, to_stage, at, by_id, via, reason) "
            "SELECT organization_id, id, '', %(stage)s, created_at, %(actor)s, %(via)s, '' FROM inserted "
            "RETURNING lead_id",
            {"stage": Stage.LEAD, "actor": actor.pk if actor else None, "via": via, **constant_params},
        )
        inserted = [pk for (pk,) in cursor.fetchall()]
        cursor.execute(
            f"SELECT s.row_index, s.id, s.match_id, s.match_kind, s.match_reason, "
            f"COALESCE(NULLIF(l.company, ''), NULLIF(l.contact_name, ''), l.email) "
            f"FROM {_STAGE_TABLE} s LEFT JOIN {lead_table} l ON l.id = s.match_id AND l.organization_id = %s",
            [org.pk],
        )
        staged = cursor.fetchall()
        cursor.execute(f"DROP TABLE {_STAGE_TABLE}")
    inserted_ids = set(inserted)
    for index, lead_id, match_id, match_kind, reason, label in staged:
        if match_kind == "duplicate":
            message = DuplicateLeadError(Lead(company=label or ""), reason).message
            results[index] = RowResult(
                index=index,
                status=DUPLICATE,
                lead_id=match_id,
                errors={_DUPLICATE_REASON_FIELD[reason]: [message]},
            )
        elif match_kind == "update" or lead_id not in inserted_ids:
            per_row.append(index)
        else:
            results[index] = RowResult(index=index, status=CREATED, lead_id=lead_id)
    lead_routing_record_batch(
        org=org,
        leads={
            result.lead_id: (rows_values[index]["created_at"], routing[index])
            for index, result in results.items()
            if result.status == CREATED
        },
    )
    audit_record_many(
        org=org,
        events=[
            Event(
                Action.LEAD_CREATE,
                "lead",
                result.lead_id,
                details={"fields": sorted(candidates[index].values)},
                label=rows_values[index].get("company") or "",
            )
            for index, result in sorted(results.items())
            if result.status == CREATED
        ],
        actor_user_id=actor.pk if actor else None,
        via=via,
    )
    actor_id = actor.pk if actor else None
    if inserted:
        transaction.on_commit(
            lambda: signals.leads_created.send(
                sender=Lead, organization_id=org.pk, lead_ids=inserted, actor_id=actor_id, via=via
            )
        )
    return results, sorted(per_row)


def leads_upsert_bulk(
    *,
    org: Organization,
    actor: User | None,
    rows: Sequence[Mapping[str, Any]],
    via: str,
    match_on: Sequence[str] = ("external_id", "email"),
    allow_history: bool = False,
    all_or_nothing: bool = False,
) -> list[RowResult]:
    """``leads_upsert`` for large batches: same arguments, same results; new leads without history
    are inserted set-based (COPY + INSERT … SELECT), the other rows go through the per-row path."""
    _check_match_on(match_on)
    parsed, failed = _prepare(org=org, rows=rows, allow_history=allow_history)
    resolver = NameResolver(org=org)
    by_index: dict[int, RowResult] = dict(failed)
    try:
        with transaction.atomic():
            resolver.resolve_in_order(row for index, row in enumerate(parsed) if index not in failed)
            # A row that expects a version is an update (or an error when nothing matches it):
            # it never takes the insert, which would create where the per-row path refuses.
            per_row_only = {
                index
                for index, row in enumerate(parsed)
                if index not in failed and (row.carries_history or row.expected_version is not None)
            }
            candidates = {
                index: row
                for index, row in enumerate(parsed)
                if index not in failed and index not in per_row_only
            }
            inserted, handed_over = _insert_set_based(
                org=org, actor=actor, candidates=candidates, via=via, match_on=match_on, resolver=resolver
            )
            by_index.update(inserted)
            per_row = sorted({*handed_over, *per_row_only})
            for index in per_row:
                by_index[index] = _upsert_one(
                    org=org,
                    actor=actor,
                    index=index,
                    row=parsed[index],
                    via=via,
                    match_on=match_on,
                    resolver=resolver,
                )
            results = [by_index[index] for index in range(len(parsed))]
            _finish(results, all_or_nothing=all_or_nothing)
    except _AllOrNothingRollback:
        return _all_or_nothing_results(results)
    _announce_import_batch(org=org, via=via)
    return results


# --- Import jobs ----------------------------------------------------------------------------------------

# Below this many rows the per-row service path is fast enough; above it the set-based path runs.
FAST_PATH_MIN_ROWS = 500
# Rows per chunk: each chunk commits on its own, with the job's counters, in one task.
SERVICE_CHUNK_ROWS = 500
BULK_CHUNK_ROWS = 10_000
# The dry run tries this many rows through the real write path (rolled back); a larger file's other
# rows are checked for format errors only, so the preview answers within a web request's timeout.
DRY_RUN_FULL_ROWS = 20_000
ON_EXISTING = {"skip": (), "update": MATCH_KEYS}


@dataclass
class ImportIssue:
    row_number: int
    column: str
    message: str
    raw: dict[str, str]


@dataclass
class DryRun:
    total: int = 0
    would_create: int = 0
    would_update: int = 0
    duplicates: int = 0
    errors: list[ImportIssue] = field(default_factory=list)
    sample: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    new_names: dict[str, list[str]] = field(default_factory=dict)
    # Rows past DRY_RUN_FULL_ROWS without format errors: checked, but not tried against existing leads.
    format_checked_only: int = 0

    @property
    def error_rows(self) -> int:
        return len({issue.row_number for issue in self.errors})


def import_job_create(*, org: Organization, actor: User | None, file_name: str, content: bytes) -> ImportJob:
    """Store an upload and suggest a column mapping. Raises ImportFileError for an unreadable file."""
    table = read_table(file_name=file_name, content=content)
    mapping = suggest_mapping(table.headers)
    return ImportJob.objects.create(
        organization=org,
        created_by=actor,
        file_name=file_name[:255],
        file_format=table.file_format,
        content=content,
        content_sha256=hashlib.sha256(content).hexdigest(),
        mapping={str(index): target for index, target in mapping.items()},
        options={
            "headers": table.headers,
            "encoding": table.encoding,
            "notice": table.notice,
            "on_existing": "skip",
            "allow_history": any(target in HISTORY_TARGETS for target in mapping.values()),
        },
    )


def import_job_set_mapping(
    *, org: Organization, job_id: int, mapping: Mapping[int, str], on_existing: str, allow_history: bool
) -> ImportJob:
    """Save the column mapping and options of a job that has not started. Raises ValidationError."""
    job = ImportJob.objects.select_for_update().get(organization=org, pk=job_id)
    if job.status != ImportJob.Status.UPLOADED:
        raise ValidationError("This import has already started; upload the file again to change the mapping.")
    headers = job.options["headers"]
    targets = [target for target in mapping.values() if target]
    unknown = set(targets) - set(TARGET_LABELS)
    if unknown or any(not 0 <= index < len(headers) for index in mapping):
        raise ValidationError("Unknown column or field in the mapping.")
    twice = sorted({TARGET_LABELS[t] for t in targets if targets.count(t) > 1})
    if twice:
        raise ValidationError(f"Each field can be filled by one column only: {', '.join(twice)}.")
    if on_existing not in ON_EXISTING:
        raise ValidationError({"on_existing": "Choose skip or update."})
    job.mapping = {str(index): target for index, target in mapping.items() if target}
    job.options = {**job.options, "on_existing": on_existing, "allow_history": allow_history}
    job.save(update_fields=["mapping", "options"])
    return job


def job_table(job: ImportJob) -> Table:
    return Table(
        headers=job.options["headers"],
        content=bytes(job.content),
        file_format=job.file_format,
        encoding=job.options.get("encoding", ""),
    )


def _job_mapping(job: ImportJob) -> dict[int, str]:
    allow_history = job.options.get("allow_history", False)
    return {
        int(index): target
        for index, target in job.mapping.items()
        if allow_history or target not in (*HISTORY_TARGETS, "close_reason")
    }


def column_of(job: ImportJob, field_name: str) -> str:
    """The file's header feeding ``field_name`` (what a person looks for in their spreadsheet)."""
    headers = job.options["headers"]
    columns = {target: headers[int(index)] for index, target in job.mapping.items()}
    if field_name == "contact_name" and "contact_name" not in columns:
        parts = [columns[p] for p in ("first_name", "last_name") if p in columns]
        if parts:
            return " + ".join(parts)
    return columns.get(field_name, "" if field_name == NON_FIELD_ERRORS else field_name)


def _original(job: ImportJob, cells: Sequence[Any]) -> dict[str, str]:
    """The row as the file had it, for the error report. PostgreSQL text and jsonb cannot hold a
    NUL character, so one shows as U+FFFD (the row's error says it contained a null character)."""
    headers = job.options["headers"]
    return {
        header.replace("\x00", "\ufffd"): (
            "" if index >= len(cells) or cells[index] is None else str(cells[index]).replace("\x00", "\ufffd")
        )
        for index, header in enumerate(headers)
    }


def _file_duplicates(*, job: ImportJob) -> dict[int, tuple[str, int]]:
    """{row number: (field, earlier row number)} for rows repeating an earlier row's de-duplication key
    anywhere in the file (chunks are imported separately, so this is decided once for the file)."""
    numbers, keys = [], []
    for number, record, _ in job_table(job).records(_job_mapping(job)):
        numbers.append(number)
        keys.append(record_identity_keys(record))
    return {
        numbers[index]: (field_name, numbers[first])
        for index, (field_name, first) in first_duplicates(keys).items()
    }


def missing_names(*, org: Organization, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Industries, sources and campaigns named in ``rows`` that do not exist yet (an upsert creates them)."""
    missing = {}
    for kind, model in NAMED_MODELS.items():
        named = {
            as_text(row.get(kind)).lower(): as_text(row.get(kind)) for row in rows if as_text(row.get(kind))
        }
        existing = {
            name.lower()
            for name in model.objects.filter(organization=org).values_list("name", flat=True)
            if name.lower() in named
        }
        missing[kind] = sorted(name for key, name in named.items() if key not in existing)
    return missing


def _upsert_for(job: ImportJob, *, rows: int):
    return leads_upsert_bulk if rows >= FAST_PATH_MIN_ROWS else leads_upsert


def _results_to_issues(
    *, job: ImportJob, results: Sequence[RowResult], numbers: Sequence[int], cells: Sequence[Sequence[Any]]
) -> list[ImportIssue]:
    issues = []
    for result in results:
        if result.status != ERROR:
            continue
        for field_name, messages in result.errors.items():
            for message in messages:
                issues.append(
                    ImportIssue(
                        row_number=numbers[result.index],
                        column=column_of(job, field_name),
                        message=message,
                        raw=_original(job, cells[result.index]),
                    )
                )
    return issues


def _duplicate_issue(
    job: ImportJob, number: int, found: tuple[str, int], cells: Sequence[Any]
) -> ImportIssue:
    field_name, first = found
    (message,) = duplicate_in_batch_error(field_name, first)[field_name]
    return ImportIssue(number, column_of(job, field_name), message, _original(job, cells))


class _DryRunRollback(Exception):
    pass


def import_job_dry_run(
    *, org: Organization, actor: User | None, job_id: int, sample_size: int = 10
) -> DryRun:
    """What running the job would do, without keeping any of it: the real write path runs inside a
    savepoint that is rolled back, so the counts and errors are those the import will report."""
    job = ImportJob.objects.get(organization=org, pk=job_id)
    duplicates_in_file = _file_duplicates(job=job)
    report = DryRun()
    numbers, rows, cells = [], [], []
    for number, record, original in job_table(job).records(_job_mapping(job)):
        report.total += 1
        if len(report.sample) < sample_size:
            report.sample.append((number, record))
        if number in duplicates_in_file:
            report.errors.append(_duplicate_issue(job, number, duplicates_in_file[number], original))
            continue
        numbers.append(number)
        rows.append(record)
        cells.append(original)
    report.new_names = missing_names(org=org, rows=rows)
    # A web request must answer within its timeout: beyond DRY_RUN_FULL_ROWS rows, the rest of a
    # large file is only parsed (format errors), the import itself finds its duplicates.
    rest = list(
        zip(numbers[DRY_RUN_FULL_ROWS:], rows[DRY_RUN_FULL_ROWS:], cells[DRY_RUN_FULL_ROWS:], strict=True)
    )
    numbers, rows, cells = numbers[:DRY_RUN_FULL_ROWS], rows[:DRY_RUN_FULL_ROWS], cells[:DRY_RUN_FULL_ROWS]
    if rest:
        parser = RowParser(org=org, allow_history=job.options.get("allow_history", False))
        for number, record, original in rest:
            parsed = parser.parse(record)
            if parsed.errors:
                result = RowResult(index=0, status=ERROR, errors=parsed.errors)
                report.errors += _results_to_issues(
                    job=job, results=[result], numbers=[number], cells=[original]
                )
            else:
                report.format_checked_only += 1
    upsert = _upsert_for(job, rows=report.total)
    try:
        with transaction.atomic():
            results = upsert(
                org=org,
                actor=actor,
                rows=rows,
                via=Via.IMPORT,
                match_on=ON_EXISTING[job.options.get("on_existing", "skip")],
                allow_history=job.options.get("allow_history", False),
            )
            raise _DryRunRollback
    except _DryRunRollback:
        pass
    report.would_create = sum(r.status == CREATED for r in results)
    report.would_update = sum(r.status == UPDATED for r in results)
    report.duplicates = sum(r.status == DUPLICATE for r in results)
    report.errors += _results_to_issues(job=job, results=results, numbers=numbers, cells=cells)
    report.errors.sort(key=lambda issue: issue.row_number)
    return report


def import_job_start(*, org: Organization, job_id: int) -> ImportJob:
    """Queue the import (once: starting a started job changes nothing)."""
    from leads.imports.tasks import import_job_run

    job = ImportJob.objects.select_for_update().get(organization=org, pk=job_id)
    if job.status == ImportJob.Status.UPLOADED:
        job.status = ImportJob.Status.QUEUED
        job.save(update_fields=["status"])
        import_job_run.delay_on_commit(organization_id=org.pk, job_id=job.pk)
    return job


# What a step changes on the job row: never the uploaded file, which a plain save() wrote again
# (and into the WAL) at every chunk, about 10 MB for a 100,000-row file.
PROGRESS_FIELDS = [
    "status",
    "options",
    "total_rows",
    "processed_rows",
    "created_count",
    "updated_count",
    "duplicate_count",
    "error_count",
    "started_at",
    "finished_at",
]


def _begin(*, org: Organization, job: ImportJob) -> None:
    job.started_at = timezone.now()
    duplicates_in_file = _file_duplicates(job=job)
    job.total_rows = sum(1 for _ in job_table(job).rows())
    job.status = ImportJob.Status.RUNNING
    job.options = {
        **job.options,
        "chunk_rows": BULK_CHUNK_ROWS if job.total_rows >= FAST_PATH_MIN_ROWS else SERVICE_CHUNK_ROWS,
        "chunks_done": [],
        "file_duplicates": {str(number): list(found) for number, found in duplicates_in_file.items()},
        "created_names": {kind: [] for kind in NAMED_MODELS},
    }
    if not job.total_rows:
        job.status = ImportJob.Status.DONE
        job.finished_at = timezone.now()
    job.save(update_fields=PROGRESS_FIELDS)


def import_job_chunks_left(job: ImportJob) -> list[int]:
    """The chunks of a running job not imported yet (chunk i starts at record i * chunk_rows)."""
    if job.status != ImportJob.Status.RUNNING:
        return []
    done = set(job.options["chunks_done"])
    chunk_rows = job.options["chunk_rows"]
    return [index for index in range(-(-job.total_rows // chunk_rows)) if index not in done]


def _process_chunk(*, org: Organization, job: ImportJob, chunk: int) -> None:
    """Import one chunk, then add its counts to the job under the job row's lock (held to the commit).

    The rows are written without that lock, so the chunks of one job can be imported side by side:
    the file's repeated rows were found once for the whole file (_begin), and a lead's
    de-duplication against other writers is the unique indexes' (leads_upsert_bulk).
    """
    duplicates_in_file = {int(k): tuple(v) for k, v in job.options["file_duplicates"].items()}
    chunk_rows = job.options["chunk_rows"]
    issues: list[ImportIssue] = []
    numbers, rows, cells = [], [], []
    taken = 0
    records = job_table(job).records(_job_mapping(job))
    for number, record, original in itertools.islice(records, chunk * chunk_rows, (chunk + 1) * chunk_rows):
        taken += 1
        if number in duplicates_in_file:
            issues.append(_duplicate_issue(job, number, duplicates_in_file[number], original))
        else:
            numbers.append(number)
            rows.append(record)
            cells.append(original)
    new_names = missing_names(org=org, rows=rows)
    results = _upsert_for(job, rows=job.total_rows)(
        org=org,
        actor=job.created_by,
        rows=rows,
        via=Via.IMPORT,
        match_on=ON_EXISTING[job.options.get("on_existing", "skip")],
        allow_history=job.options.get("allow_history", False),
    )
    issues += _results_to_issues(job=job, results=results, numbers=numbers, cells=cells)
    ImportRowError.objects.bulk_create(
        [
            ImportRowError(
                organization=org,
                job=job,
                row_number=issue.row_number,
                column=issue.column[:200],
                message=issue.message[:500],
                raw=issue.raw,
            )
            for issue in issues
        ]
    )
    # The other chunks' counts, committed meanwhile, are read under the lock and added to.
    job = ImportJob.objects.select_for_update().defer("content").get(organization=org, pk=job.pk)
    created_names = job.options["created_names"]
    for kind, names in new_names.items():
        created_names[kind] = sorted({*created_names.get(kind, []), *names})
    job.created_count += sum(r.status == CREATED for r in results)
    job.updated_count += sum(r.status == UPDATED for r in results)
    job.duplicate_count += sum(r.status == DUPLICATE for r in results)
    job.error_count += len({issue.row_number for issue in issues})
    job.processed_rows += taken
    job.options = {
        **job.options,
        "chunks_done": sorted({*job.options["chunks_done"], chunk}),
        "created_names": created_names,
    }
    if job.status == ImportJob.Status.RUNNING and not import_job_chunks_left(job):
        job.status = ImportJob.Status.DONE
        job.finished_at = timezone.now()
    job.save(update_fields=PROGRESS_FIELDS)


def _fail(*, job: ImportJob, exc: Exception) -> None:
    logger.exception("Import job %s failed", job.pk)
    job.refresh_from_db(fields=["status", "finished_at", "failure"])
    job.status = ImportJob.Status.FAILED
    job.failure = (
        f"The import stopped unexpectedly ({exc.__class__.__name__}); rows already imported are kept."
    )
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "failure", "finished_at"])


def import_job_run_step(*, org: Organization, job_id: int, chunk: int | None = None) -> bool:
    """Do one step of a job and commit it with the job's counters. True while chunks remain.

    The first step counts the rows and finds the rows repeated within the file; each later one
    imports one chunk: ``chunk``, or the first one not imported yet. Chunks may run side by side
    (the worker's import task fans them out); an advisory lock per chunk, held to the commit, and
    the job's list of chunks done make a chunk delivered twice, or re-run after a killed worker
    (whose chunk was rolled back), import nothing twice. A failed chunk fails the job; chunks
    already committed are kept, and no chunk starts after it.
    """
    job = ImportJob.objects.defer("content").get(organization=org, pk=job_id)
    if job.status == ImportJob.Status.QUEUED:
        job = ImportJob.objects.select_for_update().get(organization=org, pk=job_id)
        if job.status == ImportJob.Status.QUEUED:
            try:
                with transaction.atomic():
                    _begin(org=org, job=job)
            except Exception as exc:
                _fail(job=job, exc=exc)
                return False
        return bool(import_job_chunks_left(job))
    left = import_job_chunks_left(job)
    if chunk is None:
        if not left:
            return False
        chunk = left[0]
    elif chunk not in left:
        return bool(left)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"leads.import:{job.pk}:{chunk}"])
    # Read again under the chunk's lock: another delivery of this chunk may have committed it.
    job = ImportJob.objects.get(organization=org, pk=job_id)
    if chunk not in import_job_chunks_left(job):
        return bool(import_job_chunks_left(job))
    try:
        with transaction.atomic():
            _process_chunk(org=org, job=job, chunk=chunk)
    except Exception as exc:
        _fail(job=job, exc=exc)
        return False
    job.refresh_from_db(fields=["status", "options", "total_rows"])
    return bool(import_job_chunks_left(job))
