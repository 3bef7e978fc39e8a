"""Lead pages for sales reps and their managers: list, board, lead page, forms, saved views,
lead settings and the source / campaign / industry catalog.

Views stay thin: reads come from leads.selectors, writes from leads.services and
funnel.services.stage_move. Visibility: a lead the member may not see is a 404,
a lead they may see but not edit is a 403. Pages render in the organization's
time zone.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, ProtectedError, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from funnel.services import StageConflictError, stage_move
from funnel.stages import OPEN_STAGES, Stage, allowed_targets
from leads.filters import LeadFilter
from leads.forms import (
    ActivityForm,
    BulkActionForm,
    CampaignForm,
    CountryRegionForm,
    IndustryForm,
    LeadForm,
    LeadSettingsForm,
    SavedViewForm,
    SourceForm,
    StageMoveForm,
)
from leads.models import Campaign, CountryRegion, Industry, Lead, SavedView, Source
from leads.rules import lead_settings
from leads.selectors import lead_can_edit, lead_get, lead_list, lead_timeline, lead_visible_queryset
from leads.services import (
    DuplicateLeadError,
    LeadError,
    StaleLeadError,
    activity_log,
    lead_marketing_withdraw,
    lead_merge,
    lead_update,
)
from leads.services import lead_create as lead_create_service
from leads.templatetags.leads_ui import field_label, money
from leadtrack.tenancy.permissions import org_permission_required
from leadtrack.tenancy.roles import role_can

PAGE_SIZE = 50
# Lists show "1,000+" instead of counting a million rows on every page.
COUNT_CAP = 1000
BOARD_CARDS = 20
TIMELINE_LIMIT = 200
BULK_REPORT_LIMIT = 10
LIST_COLUMNS = ("owner", "source", "campaign", "industry")
# Not needed to draw a row; the search vector is the widest column of the table.
LIST_DEFERRED = ("search_vector", "notes")


def org_page(permission: str) -> Callable:
    """``org_permission_required`` plus the organization's time zone for dates shown and typed."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def in_org_time_zone(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            with timezone.override(request.organization.tzinfo):
                return view(request, *args, **kwargs)

        return org_permission_required(permission)(in_org_time_zone)

    return decorator


def _form_errors_from(exc: ValidationError, form: forms.Form) -> None:
    """A service's ValidationError onto the form: field errors where the form has the field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            if field in form.fields:
                form.add_error(field, errors)
            else:
                form.add_error(None, [f"{field_label(field)}: {error}" for error in errors])
    else:
        form.add_error(None, exc.messages)


def _visible_lead(request: HttpRequest, lead_id: int) -> Lead:
    try:
        return lead_get(org=request.organization, membership=request.membership, lead_id=lead_id)
    except Lead.DoesNotExist as exc:
        raise Http404("No such lead") from exc


def _editable_lead(request: HttpRequest, lead_id: int) -> Lead:
    lead = _visible_lead(request, lead_id)
    if not lead_can_edit(membership=request.membership, lead=lead):
        raise PermissionDenied
    return lead


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _positive_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


# ---------------------------------------------------------------------------
# Lead list: filters, sorting, keyset pagination, saved views, bulk actions


@dataclass(frozen=True)
class Sort:
    label: str
    field: str
    descending: bool


SORTS: dict[str, Sort] = {
    "newest": Sort("Newest first", "created_at", True),
    "oldest": Sort("Oldest first", "created_at", False),
    "updated": Sort("Recently updated", "updated_at", True),
    "score": Sort("Highest score", "score", True),
    "company": Sort("Company A to Z", "company", False),
}
DEFAULT_SORT = "newest"
PAGING_PARAMS = ("after", "before")
INT_RANGE = 2**63


def _cursor_encode(sort: Sort, lead: Lead) -> str:
    value = getattr(lead, sort.field)
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([value, lead.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(sort: Sort, token: str) -> tuple[Any, int] | None:
    """The (sort value, id) a page starts after; None for anything malformed (→ first page)."""
    try:
        value, lead_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if type(lead_id) is not int or not 0 < lead_id < INT_RANGE:
            return None
        if sort.field in ("created_at", "updated_at"):
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                return None
        elif sort.field == "score":
            if type(value) is not int or not -(2**31) <= value < 2**31:
                return None
        elif not isinstance(value, str):
            return None
    except (binascii.Error, ValueError, TypeError):
        return None
    return value, lead_id


def _beyond(sort_field: str, cursor: tuple[Any, int], *, descending: bool) -> Q:
    """Rows after ``cursor`` in (field, id) order. The redundant bound on the field alone lets
    PostgreSQL start the index scan at the cursor instead of filtering from the first row."""
    value, lead_id = cursor
    if descending:
        return Q(**{f"{sort_field}__lte": value}) & (Q(**{f"{sort_field}__lt": value}) | Q(id__lt=lead_id))
    return Q(**{f"{sort_field}__gte": value}) & (Q(**{f"{sort_field}__gt": value}) | Q(id__gt=lead_id))


def _ordered(queryset: QuerySet[Lead], sort_field: str, *, descending: bool) -> QuerySet[Lead]:
    prefix = "-" if descending else ""
    return queryset.order_by(f"{prefix}{sort_field}", f"{prefix}id")


@dataclass
class Page:
    rows: list[Lead]
    next_cursor: str | None
    previous_cursor: str | None


def _keyset_page(
    queryset: QuerySet[Lead], *, rows: QuerySet[Lead], sort: Sort, after: tuple | None, before: tuple | None
) -> Page:
    """One page by (sort field, id): constant cost however deep the page, no OFFSET, no COUNT.

    The ids are picked on the leads table alone, then ``rows`` (with its joins) loads just
    those: joining before the sort would join every matching lead, not one page of them.
    """
    backwards = before is not None
    descending = sort.descending != backwards
    ordered = _ordered(queryset, sort.field, descending=descending)
    cursor = before if backwards else after
    if cursor is not None:
        ordered = ordered.filter(_beyond(sort.field, cursor, descending=descending))
    ids = list(ordered.values_list("pk", flat=True)[: PAGE_SIZE + 1])
    more = len(ids) > PAGE_SIZE
    ids = ids[:PAGE_SIZE][::-1] if backwards else ids[:PAGE_SIZE]
    loaded = rows.in_bulk(ids)
    page_rows = [loaded[pk] for pk in ids]
    has_next, has_previous = (True, more) if backwards else (more, after is not None)
    return Page(
        rows=page_rows,
        next_cursor=_cursor_encode(sort, page_rows[-1]) if page_rows and has_next else None,
        previous_cursor=_cursor_encode(sort, page_rows[0]) if page_rows and has_previous else None,
    )


def _query_without(query: QueryDict, *names: str) -> str:
    """The query string without ``names`` (paging cursors), in a stable order for comparison."""
    pairs = [(key, value) for key in sorted(query) if key not in names for value in query.getlist(key)]
    return urlencode([(key, value) for key, value in pairs if value != ""])


def _builtin_views(request: HttpRequest) -> list[dict[str, str]]:
    open_stages = [("stage", stage.value) for stage in OPEN_STAGES]
    return [
        {
            "name": "My open leads",
            "query": urlencode([("owner", str(request.user.pk)), *open_stages]),
        },
        {"name": "Not contacted in 24h", "query": urlencode([("not_contacted_hours", "24")])},
    ]


def _saved_views_of(request: HttpRequest) -> QuerySet[SavedView]:
    return SavedView.objects.filter(
        Q(owner=request.user) | Q(shared=True), organization=request.organization
    ).select_related("owner")


def _style_filter_form(filterset: LeadFilter) -> forms.Form:
    form = filterset.form
    form.fields["stage"].widget = forms.CheckboxSelectMultiple(choices=Stage.choices)
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget.input_type = "date"
    for name in ("updated_since", "country", "channel_type"):
        form.fields.pop(name)
    filterset.load_display_choices()
    return form


@org_page("leads.view")
def lead_list_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _bulk_action(request)
    org, membership = request.organization, request.membership
    queryset, filterset = lead_list(org=org, membership=membership, filters=request.GET)
    sort_key = request.GET.get("sort", DEFAULT_SORT)
    if sort_key not in SORTS:
        sort_key = DEFAULT_SORT
    sort = SORTS[sort_key]
    after = _cursor_decode(sort, request.GET["after"]) if request.GET.get("after") else None
    before = _cursor_decode(sort, request.GET["before"]) if request.GET.get("before") and not after else None
    page = _keyset_page(
        queryset,
        rows=queryset.select_related(*LIST_COLUMNS).defer(*LIST_DEFERRED),
        sort=sort,
        after=after,
        before=before,
    )
    capped_count = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
    base_query = _query_without(request.GET, *PAGING_PARAMS, "sort")
    # The default order is left out so that a view's link and the same filters typed by hand match.
    current_query = base_query if sort_key == DEFAULT_SORT else _query_without(request.GET, *PAGING_PARAMS)
    return render(
        request,
        "leads/list.html",
        {
            "filter_form": _style_filter_form(filterset),
            "page": page,
            "count": min(capped_count, COUNT_CAP),
            "count_capped": capped_count > COUNT_CAP,
            "sorts": SORTS,
            "sort_key": sort_key,
            "current_query": current_query,
            "base_query": base_query,
            "paged": bool(after or before),
            "builtin_views": _builtin_views(request),
            "saved_views": _saved_views_of(request),
            "bulk_form": BulkActionForm(org=org, membership=membership),
            "can_edit_any": role_can(membership.role, "leads.edit"),
            "editable_ids": {
                lead.pk for lead in page.rows if lead_can_edit(membership=membership, lead=lead)
            },
        },
    )


def _bulk_action(request: HttpRequest) -> HttpResponse:
    """Assign an owner or move the stage of the selected leads, one service call each;
    a lead that cannot be changed is reported and never blocks the others. Each lead is
    changed only at the version the page showed (D4): one changed since is refused."""
    org, membership = request.organization, request.membership
    if not role_can(membership.role, "leads.edit"):
        raise PermissionDenied
    back = request.get_full_path()
    form = BulkActionForm(request.POST, org=org, membership=membership)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect(back)
    data = form.cleaned_data
    versions: dict[int, int] = data["lead"]
    ids = list(versions)
    found = {
        lead.pk: lead for lead in lead_visible_queryset(org=org, membership=membership).filter(pk__in=ids)
    }
    done, refused = 0, []
    for lead_id in ids:
        lead = found.get(lead_id)
        if lead is None:
            refused.append(f"#{lead_id}: not found")
            continue
        if not lead_can_edit(membership=membership, lead=lead):
            refused.append(f"{lead}: you may not edit it")
            continue
        try:
            if data["action"] == BulkActionForm.ASSIGN:
                lead_update(
                    org=org,
                    actor=request.user,
                    lead_id=lead.pk,
                    data={"owner": data["owner"]},
                    expected_version=versions[lead.pk],
                )
            else:
                stage_move(
                    org=org,
                    actor=request.user,
                    lead_id=lead.pk,
                    to_stage=data["to_stage"],
                    reason=data["reason"],
                    amount=data["amount"],
                    expected_version=versions[lead.pk],
                )
        except StaleLeadError:
            refused.append(f"{lead}: changed by someone else since you loaded the page; reload and try again")
        except ValidationError as exc:
            refused.append(f"{lead}: {' '.join(exc.messages)}")
        except LeadError as exc:
            refused.append(f"{lead}: {exc.message}")
        else:
            done += 1
    verb = "assigned" if data["action"] == BulkActionForm.ASSIGN else "moved"
    summary = f"{done} {verb}"
    if refused:
        shown = "; ".join(reason.rstrip(".") for reason in refused[:BULK_REPORT_LIMIT])
        more = f"; and {len(refused) - BULK_REPORT_LIMIT} more" if len(refused) > BULK_REPORT_LIMIT else ""
        messages.warning(request, f"{summary}, {len(refused)} refused: {shown}{more}.")
    else:
        messages.success(request, f"{summary}.")
    return redirect(back)


@org_page("leads.view")
def saved_views_page(request: HttpRequest) -> HttpResponse:
    """Save the current list filters under a name; list and delete saved views."""
    form = SavedViewForm(request.POST or None, initial={"query": request.GET.get("query", "")})
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.organization = request.organization
        saved.owner = request.user
        saved.query = _query_without(QueryDict(saved.query), *PAGING_PARAMS)
        saved.save()
        messages.success(request, f"Saved the view “{saved.name}”.")
        return redirect(
            f"{reverse('lead_list', kwargs={'org_slug': request.organization.slug})}?{saved.query}"
        )
    return render(
        request,
        "leads/saved_views.html",
        {"form": form, "saved_views": _saved_views_of(request), "builtin_views": _builtin_views(request)},
    )


@require_POST
@org_page("leads.view")
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    saved = _saved_views_of(request).filter(pk=view_id).first()
    if saved is None:
        raise Http404("No such view")
    if saved.owner_id != request.user.pk and not role_can(request.membership.role, "org.manage_settings"):
        raise PermissionDenied
    saved.delete()
    messages.success(request, f"Deleted the view “{saved.name}”.")
    return redirect("lead_saved_views", org_slug=request.organization.slug)


# ---------------------------------------------------------------------------
# Board by stage


def _board_targets(stage: str) -> list[tuple[str, str]]:
    targets = allowed_targets(stage)
    return [(s.value, s.label) for s in OPEN_STAGES if s in targets]


@org_page("leads.view")
def lead_board(request: HttpRequest) -> HttpResponse:
    org, membership = request.organization, request.membership
    queryset, filterset = lead_list(org=org, membership=membership, filters=request.GET)
    cards_queryset = queryset.select_related("owner").defer(*LIST_DEFERRED)
    columns = []
    for stage in OPEN_STAGES:
        cards = list(cards_queryset.filter(stage=stage)[:BOARD_CARDS])
        count = queryset.filter(stage=stage).order_by().values("pk")[: COUNT_CAP + 1].count()
        for card in cards:
            card.can_move = lead_can_edit(membership=membership, lead=card)
        columns.append(
            {
                "stage": stage,
                "cards": cards,
                "count": min(count, COUNT_CAP),
                "count_capped": count > COUNT_CAP,
                "targets": _board_targets(stage),
            }
        )
    return render(
        request,
        "leads/board.html",
        {"columns": columns, "filter_form": _style_filter_form(filterset), "board_cards": BOARD_CARDS},
    )


# ---------------------------------------------------------------------------
# The lead page


def _lead_page(
    request: HttpRequest,
    lead: Lead,
    *,
    activity_form: ActivityForm | None = None,
    move_form: StageMoveForm | None = None,
) -> HttpResponse:
    org, membership = request.organization, request.membership
    can_edit = lead_can_edit(membership=membership, lead=lead)
    move_form = move_form or StageMoveForm(initial={"expected_stage": lead.stage})
    move_form.fields["to_stage"].choices = [
        (s.value, s.label) for s in Stage if s in allowed_targets(lead.stage)
    ]
    return render(
        request,
        "leads/detail.html",
        {
            "lead": lead,
            "can_edit": can_edit,
            "edit_form": (
                LeadForm(initial=LeadForm.initial_from(lead), org=org, membership=membership)
                if can_edit
                else None
            ),
            "activity_form": activity_form or ActivityForm(),
            "move_form": move_form,
            **_timeline_context(request, lead),
        },
    )


def _timeline_context(request: HttpRequest, lead: Lead) -> dict[str, Any]:
    timeline = lead_timeline(org=request.organization, lead=lead)
    return {
        "lead": lead,
        "timeline": timeline[:TIMELINE_LIMIT],
        "timeline_hidden": max(0, len(timeline) - TIMELINE_LIMIT),
    }


@org_page("leads.view")
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _lead_page(request, _visible_lead(request, lead_id))


@org_page("leads.view")
def lead_history(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The field-level change history: who changed what, when, and through which door."""
    lead = _visible_lead(request, lead_id)
    changes = lead.changes.select_related("actor").order_by("-changed_at", "-pk")
    return render(request, "leads/history.html", {"lead": lead, "changes": changes})


@require_POST
@org_page("leads.edit")
def lead_activity_log(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Log a call, e-mail, meeting, demo or note. With ``X-Partial: timeline`` (our script) the
    answer is the refreshed timeline alone; without JavaScript it is a redirect to the lead."""
    lead = _editable_lead(request, lead_id)
    form = ActivityForm(request.POST)
    partial = request.headers.get("X-Partial") == "timeline"
    if form.is_valid():
        try:
            activity = activity_log(
                org=request.organization,
                actor=request.user,
                lead_id=lead.pk,
                kind=form.cleaned_data["kind"],
                occurred_at=form.cleaned_data["occurred_at"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
            )
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            if partial:
                return render(request, "leads/_timeline.html", _timeline_context(request, lead))
            messages.success(request, f"{activity.get_kind_display()} logged.")
            return redirect("lead_detail", org_slug=request.organization.slug, lead_id=lead.pk)
    if partial:
        # The script then submits the form the ordinary way and the page shows the field errors.
        return HttpResponse("Please correct the form.", status=422, content_type="text/plain")
    return _lead_page(request, lead, activity_form=form)


@require_POST
@org_page("leads.edit")
def lead_marketing_withdraw_page(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The person told us (call, e-mail, reply) they no longer want marketing: record it."""
    lead = _editable_lead(request, lead_id)
    lead_marketing_withdraw(org=request.organization, actor=request.user, lead_id=lead.pk, source="Lead page")
    messages.success(request, f"{lead}: marketing withdrawal recorded; the lead is left out of exports.")
    return redirect("lead_detail", org_slug=request.organization.slug, lead_id=lead.pk)


@require_POST
@org_page("leads.edit")
def lead_move(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Move a lead's stage through the stage service: from the lead page, the board's card form,
    or the board's drag and drop (which asks for JSON)."""
    lead = _editable_lead(request, lead_id)
    lead_page = reverse("lead_detail", kwargs={"org_slug": request.organization.slug, "lead_id": lead.pk})
    form = StageMoveForm(request.POST)
    wants_json = _wants_json(request)
    if form.is_valid():
        data = form.cleaned_data
        try:
            stage_move(
                org=request.organization,
                actor=request.user,
                lead_id=lead.pk,
                to_stage=data["to_stage"],
                reason=data["reason"],
                amount=data["amount"],
                expected_stage=data["expected_stage"] or None,
            )
        except (StageConflictError, StaleLeadError) as exc:
            if wants_json:
                return JsonResponse({"ok": False, "message": exc.message}, status=409)
            messages.error(request, exc.message)
            return redirect(_safe_next(request, lead_page))
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            message = f"{lead} moved to {Stage(data['to_stage']).label}."
            if wants_json:
                return JsonResponse(
                    {
                        "ok": True,
                        "message": message,
                        "stage": data["to_stage"],
                        "targets": _board_targets(data["to_stage"]),
                    }
                )
            messages.success(request, message)
            return redirect(_safe_next(request, lead_page))
    if wants_json:
        problems = [error for errors in form.errors.values() for error in errors]
        return JsonResponse({"ok": False, "message": " ".join(problems), "lead_url": lead_page}, status=400)
    return _lead_page(request, lead, move_form=form)


# ---------------------------------------------------------------------------
# Create and edit, with the duplicate offer


def _is_blank(lead: Lead, field: str) -> bool:
    value = getattr(lead, field)
    return value is None or str(value) == ""


def _duplicate_offer(request: HttpRequest, exc: DuplicateLeadError) -> dict[str, Any]:
    """What to show about the lead the new data duplicates; a lead the member may not see is
    not named (it belongs to a colleague)."""
    existing = exc.existing
    visible = lead_visible_queryset(org=request.organization, membership=request.membership).filter(
        pk=existing.pk
    )
    if not visible.exists():
        return {
            "message": f"A lead with the same {exc.reason} already exists and belongs to a colleague; "
            "ask your manager to share it with you.",
            "lead": None,
            "can_merge": False,
        }
    return {
        "message": f"A lead with the same {exc.reason} already exists: {existing}.",
        "lead": existing,
        "can_merge": lead_can_edit(membership=request.membership, lead=existing),
    }


def _fill_blanks(request: HttpRequest, form: LeadForm, existing: Lead) -> tuple[Lead, list[str]]:
    """Give ``existing`` the typed values of the fields it has blank; its own values stay.
    Returns the lead and the names of the fields filled."""
    typed = {name: value for name, value in form.lead_data().items() if value not in (None, "")}
    blanks = {name: value for name, value in typed.items() if _is_blank(existing, name)}
    if blanks:
        existing = lead_update(org=request.organization, actor=request.user, lead_id=existing.pk, data=blanks)
    return existing, list(blanks)


@org_page("leads.create")
def lead_create(request: HttpRequest) -> HttpResponse:
    """Create a lead. On a duplicate the person may open the existing lead or "update it":
    nothing is created, and the existing lead takes the typed values only where it is blank."""
    org, membership = request.organization, request.membership
    form = LeadForm(request.POST or None, org=org, membership=membership, initial={"owner": request.user.pk})
    form.fields.pop("version")  # a new lead has no version to check yet
    duplicate = None
    if request.method == "POST" and form.is_valid():
        merge_into = _positive_int(request.POST.get("merge_into"))
        try:
            if merge_into is not None:
                with transaction.atomic():
                    lead, filled_fields = _fill_blanks(request, form, _editable_lead(request, merge_into))
                filled = ", ".join(form.fields[name].label or field_label(name) for name in filled_fields)
                messages.success(
                    request,
                    f"No new lead created. Added {filled} to {lead}."
                    if filled
                    else f"No new lead created; {lead} already had everything you typed.",
                )
            else:
                lead = lead_create_service(org=org, actor=request.user, data=form.lead_data())
                messages.success(request, f"Lead {lead} created.")
        except DuplicateLeadError as exc:
            duplicate = _duplicate_offer(request, exc)
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            return redirect("lead_detail", org_slug=org.slug, lead_id=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form, "lead": None, "duplicate": duplicate})


def _differences(form: LeadForm, current: Lead) -> list[tuple[str, str, str]]:
    """(field, current value, typed value) where the lead now differs from what was typed."""
    current_values = LeadForm.initial_from(current)
    rows = []
    for name, typed in form.lead_data().items():
        now = current_values[name]
        if (now or None) != (typed or None):
            show = money if name in ("expected_amount", "value_12m") else str
            rows.append(
                (
                    form.fields[name].label or field_label(name),
                    show(now) if now else "—",
                    show(typed) if typed else "—",
                )
            )
    return rows


@org_page("leads.edit")
def lead_edit(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Edit with optimistic concurrency: the form carries the version it was drawn from."""
    org, membership = request.organization, request.membership
    lead = _editable_lead(request, lead_id)
    form = LeadForm(request.POST or None, initial=LeadForm.initial_from(lead), org=org, membership=membership)
    form.fields["version"].required = True
    duplicate, differences, status = None, [], 200
    if request.method == "POST" and form.is_valid():
        merge_into = _positive_int(request.POST.get("merge_into"))
        try:
            if merge_into is not None:
                return _merge_edited(request, form, lead, merge_into)
            updated = lead_update(
                org=org,
                actor=request.user,
                lead_id=lead.pk,
                data=form.lead_data(),
                expected_version=form.cleaned_data["version"],
            )
        except StaleLeadError as exc:
            # Keep what was typed, now against the current version: saving again is a
            # deliberate overwrite, made after seeing what changed.
            lead = _visible_lead(request, lead.pk)
            data = request.POST.copy()
            data["version"] = str(lead.version)
            form = LeadForm(data, initial=LeadForm.initial_from(lead), org=org, membership=membership)
            form.is_valid()
            form.add_error(None, f"{exc.message} Your edits are kept below; save again to overwrite.")
            differences = _differences(form, lead)
            status = 409  # a lost update refused (matrix D4): the same answer as the API's
        except DuplicateLeadError as exc:
            duplicate = _duplicate_offer(request, exc)
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            changed = updated.version != form.cleaned_data["version"]
            messages.success(request, "Saved." if changed else "Nothing changed.")
            return redirect("lead_detail", org_slug=org.slug, lead_id=lead.pk)
    return render(
        request,
        "leads/lead_form.html",
        {"form": form, "lead": lead, "duplicate": duplicate, "differences": differences},
        status=status,
    )


def _merge_edited(request: HttpRequest, form: LeadForm, lead: Lead, primary_id: int) -> HttpResponse:
    """The edited lead turned out to be another one: merge it into that one (both histories
    kept), then give the other lead the typed values where it had them blank before the merge."""
    primary = _editable_lead(request, primary_id)
    blank_before_merge = {name for name in form.lead_data() if _is_blank(primary, name)}
    typed = {
        name: value
        for name, value in form.lead_data().items()
        if name in blank_before_merge and value not in (None, "")
    }
    try:
        with transaction.atomic():
            merged = lead_merge(
                org=request.organization, actor=request.user, primary_id=primary.pk, duplicate_id=lead.pk
            )
            if typed:
                merged = lead_update(
                    org=request.organization, actor=request.user, lead_id=merged.pk, data=typed
                )
    except (ValidationError, LeadError) as exc:
        text = exc.message if isinstance(exc, LeadError) else " ".join(exc.messages)
        messages.error(request, f"Could not merge: {text}")
        return redirect("lead_edit", org_slug=request.organization.slug, lead_id=lead.pk)
    messages.success(request, f"Merged #{lead.pk} into {merged}; both histories are kept here.")
    return redirect("lead_detail", org_slug=request.organization.slug, lead_id=merged.pk)


# ---------------------------------------------------------------------------
# Lead settings (admins) and the catalog of sources, campaigns, industries


@org_page("org.manage_settings")
def lead_settings_page(request: HttpRequest) -> HttpResponse:
    org = request.organization
    is_post = request.method == "POST"
    settings_form = LeadSettingsForm(
        request.POST if is_post and "save_settings" in request.POST else None, instance=lead_settings(org=org)
    )
    region_form = CountryRegionForm(
        request.POST if is_post and "add_region" in request.POST else None, org=org
    )
    if settings_form.is_bound and settings_form.is_valid():
        settings_form.save()
        messages.success(request, "Lead settings saved. They apply to leads created or edited from now on.")
        return redirect("lead_settings", org_slug=org.slug)
    if region_form.is_bound and region_form.is_valid():
        override = region_form.save()
        messages.success(request, f"{override.country.name} now counts as {override.get_region_display()}.")
        return redirect("lead_settings", org_slug=org.slug)
    return render(
        request,
        "leads/settings.html",
        {
            "settings_form": settings_form,
            "region_form": region_form,
            "overrides": CountryRegion.objects.filter(organization=org).order_by("country"),
        },
    )


@require_POST
@org_page("org.manage_settings")
def country_region_delete(request: HttpRequest, override_id: int) -> HttpResponse:
    deleted, _ = CountryRegion.objects.filter(organization=request.organization, pk=override_id).delete()
    if not deleted:
        raise Http404("No such override")
    messages.success(request, "Override removed; the country counts in its default region again.")
    return redirect("lead_settings", org_slug=request.organization.slug)


@dataclass(frozen=True)
class CatalogKind:
    model: type[Model]
    form: type[forms.ModelForm]
    singular: str
    plural: str
    url_prefix: str
    headers: tuple[str, ...]
    cells: Callable[[Any], tuple[str, ...]]
    lead_field: str


CATALOG: dict[str, CatalogKind] = {
    "sources": CatalogKind(
        model=Source,
        form=SourceForm,
        singular="source",
        plural="Sources",
        url_prefix="lead_source",
        lead_field="source",
        headers=("Channel", "Inbound", "Referral"),
        cells=lambda s: (
            s.get_channel_type_display(),
            "yes" if s.is_inbound else "no",
            "yes" if s.is_referral else "no",
        ),
    ),
    "campaigns": CatalogKind(
        model=Campaign,
        form=CampaignForm,
        singular="campaign",
        plural="Campaigns",
        url_prefix="lead_campaign",
        lead_field="campaign",
        headers=("Source", "Channel", "Dates", "Cost", "Budget"),
        cells=lambda c: (
            str(c.source or "—"),
            c.get_channel_type_display(),
            " to ".join(str(d) for d in (c.start_date, c.end_date) if d) or "—",
            money(c.cost),
            money(c.budget),
        ),
    ),
    "industries": CatalogKind(
        model=Industry,
        form=IndustryForm,
        singular="industry",
        plural="Industries",
        url_prefix="lead_industry",
        lead_field="industry",
        headers=(),
        cells=lambda i: (),
    ),
}


def _catalog_item(request: HttpRequest, kind: CatalogKind, item_id: int) -> Model:
    item = kind.model.objects.filter(organization=request.organization, pk=item_id).first()
    if item is None:
        raise Http404(f"No such {kind.singular}")
    return item


def _catalog_list_url(request: HttpRequest, kind: CatalogKind) -> str:
    return reverse(f"{kind.url_prefix}_list", kwargs={"org_slug": request.organization.slug})


@org_page("catalog.manage")
def catalog_list(request: HttpRequest, kind: str) -> HttpResponse:
    catalog = CATALOG[kind]
    items = catalog.model.objects.filter(organization=request.organization)
    if catalog.model is Campaign:
        items = items.select_related("source")
    return render(
        request,
        "leads/catalog_list.html",
        {"catalog": catalog, "rows": [(item, catalog.cells(item)) for item in items], "catalogs": CATALOG},
    )


def _catalog_form_page(request: HttpRequest, catalog: CatalogKind, item: Model | None) -> HttpResponse:
    form = catalog.form(request.POST or None, instance=item, org=request.organization)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Saved {catalog.singular} “{saved}”.")
        return redirect(_catalog_list_url(request, catalog))
    return render(request, "leads/catalog_form.html", {"catalog": catalog, "form": form, "item": item})


@org_page("catalog.manage")
def catalog_create(request: HttpRequest, kind: str) -> HttpResponse:
    return _catalog_form_page(request, CATALOG[kind], None)


@org_page("catalog.manage")
def catalog_edit(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    catalog = CATALOG[kind]
    return _catalog_form_page(request, catalog, _catalog_item(request, catalog, item_id))


@org_page("catalog.manage")
def catalog_delete(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    """Ask first (leads filed under it lose the link, their history stays), then delete.
    Spend booked on a source or campaign blocks deletion."""
    catalog = CATALOG[kind]
    item = _catalog_item(request, catalog, item_id)
    if request.method != "POST":
        lead_count = Lead.objects.filter(
            organization=request.organization, deleted_at__isnull=True, **{catalog.lead_field: item}
        ).count()
        return render(
            request,
            "leads/catalog_confirm_delete.html",
            {"catalog": catalog, "item": item, "lead_count": lead_count},
        )
    try:
        with transaction.atomic():
            item.delete()
    except ProtectedError:
        messages.error(request, f"“{item}” has spend entries booked on it; it cannot be deleted.")
    else:
        messages.success(request, f"Deleted {catalog.singular} “{item}”.")
    return redirect(_catalog_list_url(request, catalog))
