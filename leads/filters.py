"""The lead-list filters, shared by the browser list, the API, exports and dashboards' click-through."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import lru_cache, partial

import django_filters
from django.contrib.postgres.search import SearchQuery
from django.core.validators import MaxValueValidator
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils.translation import get_language
from django_countries import countries

from funnel.stages import Stage
from leads.models import Campaign, ChannelType, Industry, Lead, Segment, Source
from leads.regions import Region
from leadtrack import caching
from leadtrack.accounts.models import User
from leadtrack.filters import FilterSet
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.selectors import internal_users

# The stage a lead reached (skips count as reached; recycles do not erase it) and the
# field saying when: docs/metrics.md. Won and lost are the current closed stage.
REACHED_CHOICES = [
    (Stage.MQL.value, "MQL"),
    (Stage.SQL.value, "SQL"),
    (Stage.OPPORTUNITY.value, "Opportunity"),
    (Stage.WON.value, "Closed won"),
    (Stage.LOST.value, "Closed lost"),
]
REACHED_AT_FIELD = {
    Stage.MQL: "reached_mql_at",
    Stage.SQL: "reached_sql_at",
    Stage.OPPORTUNITY: "reached_opportunity_at",
    Stage.WON: "closed_at",
    Stage.LOST: "closed_at",
}


def country_choices() -> list[tuple[str, str]]:
    # A callable, not a list: a FilterSet and its form deep-copy their fields on every request, and
    # copying ~250 country pairs twice was the largest cost of an API list call. Called only when a
    # country is given (validation) or a form is rendered.
    return list(countries)


@lru_cache(maxsize=32)
def _country_options(language: str | None) -> tuple[tuple[str, str], ...]:
    """``country_choices`` as shown in ``language``, kept: the names are translated and sorted."""
    return tuple((str(code), str(name)) for code, name in countries)


FILTER_OPTIONS_TTL_SECONDS = 300


def _filter_options_key(organization_id: int) -> str:
    return f"leads:filter-options:{organization_id}"


def filter_options_cached(
    *, organization_id: int, read: Callable[[], dict[str, list[tuple[int, str]]]]
) -> dict[str, list[tuple[int, str]]]:
    """The organization's relation filter options, ``read()`` on a miss.

    Forgotten by leads/receivers.py when a row they list changes; the TTL bounds what a
    change that sends no signal (a queryset ``update()``) can leave showing.
    """
    return caching.read_through(_filter_options_key(organization_id), FILTER_OPTIONS_TTL_SECONDS, read)


def _filter_options_version_key(organization_id: int) -> str:
    return f"leads:filter-options-version:{organization_id}"


def filter_options_version(*, organization_id: int) -> str:
    """A token naming the state of the organization's filter options; ``filter_options_forget``
    replaces it. What is built from the options and kept (a rendered filter bar) has it in its key."""
    return caching.token(_filter_options_version_key(organization_id))


def filter_options_forget(*, organization_id: int) -> None:
    """Forget now and again once the change commits (a reader in between may have cached the old rows).

    The version becomes a new random token (caching.token_replace): a count lost with its key (an
    eviction) would start again and name old fragments as current.
    """
    caching.forget(_filter_options_key(organization_id))
    version_key = _filter_options_version_key(organization_id)
    caching.now_and_on_commit(lambda: caching.token_replace(version_key))


def search_query(text: str) -> SearchQuery | None:
    """Prefix search on every word: "acm jan" finds Jane at Acme."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split() if w]
    if not words:
        return None
    return SearchQuery(" & ".join(f"{word}:*" for word in words[:8]), search_type="raw", config="simple")


def _empty_options(field) -> list[tuple[object, str]]:
    """The "any" and "none" options a filter's <select> starts with."""
    head = [("", field.empty_label)] if field.empty_label is not None else []
    if getattr(field, "null_label", None) is not None:
        head.append((field.null_value, field.null_label))
    return head


class LeadFilter(FilterSet):
    """Build with ``LeadFilter(data, queryset=..., organization=org)``: choices come from that organization.

    Class-level querysets are empty placeholders; the real ones are set per request
    in __init__, so a client can never pick another tenant's source or owner.
    """

    q = django_filters.CharFilter(method="filter_search", label="Search")
    # distinct=False: a filter on the row's own column cannot repeat a row, and SELECT DISTINCT over
    # every listed column made PostgreSQL sort the whole match before the LIMIT.
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices, distinct=False)
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.none(), null_label="Unassigned")
    source = django_filters.ModelChoiceFilter(queryset=Source.unscoped.none())
    channel_type = django_filters.ChoiceFilter(field_name="source__channel_type", choices=ChannelType.choices)
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.unscoped.none())
    region = django_filters.ChoiceFilter(choices=Region.choices)
    country = django_filters.ChoiceFilter(choices=country_choices)
    industry = django_filters.ModelChoiceFilter(queryset=Industry.unscoped.none())
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte", label="Score from")
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte", label="Score to")
    created_from = django_filters.DateFilter(method="filter_created_from", label="Created from")
    # The day after it must exist: date.max + 1 day would be an OverflowError (a 500).
    created_to = django_filters.DateFilter(
        method="filter_created_to",
        label="Created to (inclusive)",
        validators=[MaxValueValidator(date(9999, 12, 30))],
    )
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    # Dashboards' click-through (reports): leads that reached a funnel stage, optionally in a date range.
    reached = django_filters.ChoiceFilter(
        choices=REACHED_CHOICES, method="filter_reached", label="Reached stage"
    )
    reached_from = django_filters.DateFilter(method="filter_reached_range", label="Reached from")
    reached_to = django_filters.DateFilter(
        method="filter_reached_range",
        label="Reached to (inclusive)",
        validators=[MaxValueValidator(date(9999, 12, 30))],
    )
    # Bounded: a huge number of hours would overflow timedelta (a 500). A century is plenty.
    not_contacted_hours = django_filters.NumberFilter(
        method="filter_not_contacted", label="Not contacted for (hours)", min_value=0, max_value=876_000
    )

    class Meta:
        model = Lead
        fields: list[str] = []

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        # Callables (django-filter calls them with the request when it builds the field): a
        # request that names no relation filter, most API calls, composes none of these querysets.
        for name in self.RELATION_LABELS:
            self.filters[name].queryset = partial(self._relation_queryset, name)

    def _relation_queryset(self, name: str, request=None) -> QuerySet:
        """The choices of a relation filter: this organization's rows (its internal members)."""
        if name == "owner":
            return internal_users(org=self.organization)
        model = {"source": Source, "campaign": Campaign, "industry": Industry}[name]
        return model.objects.filter(organization=self.organization)

    # The relation filters, with how each option reads (as the model's __str__) and sorts.
    RELATION_LABELS = {
        "owner": (Coalesce(NullIf(F("full_name"), Value("")), F("email")), F("email")),
        "source": (F("name"), F("name")),
        "campaign": (F("name"), F("name")),
        "industry": (F("name"), F("name")),
    }

    def load_display_choices(self) -> None:
        """Fill the <select> options of a page being rendered (validation reads the fields' own choices).

        A <select> reads its queryset when rendered, one statement per relation; here the same
        querysets (the ones validation checks against) are read in one UNION ALL, and kept
        (``filter_options_cached``): every list and dashboard page shows them, and they change
        only when a source, campaign, industry or membership does.
        """
        relations = filter_options_cached(organization_id=self.organization.pk, read=self._relation_options)
        for name, found in relations.items():
            if name in self.form.fields:
                field = self.form.fields[name]
                field.widget.choices = [*_empty_options(field), *found]
        if "country" in self.form.fields:
            # The same list as country_choices, kept per process and language, and handed to the
            # renderer as it is: setting widget.choices would normalize ~250 pairs on every page.
            field = self.form.fields["country"]
            field.widget.display_options = (*_empty_options(field), *_country_options(get_language()))

    def _relation_options(self) -> dict[str, list[tuple[int, str]]]:
        """Every relation filter's (pk, label) options, sorted as shown, in one statement."""
        parts = [
            self._relation_queryset(name)
            .order_by()
            .annotate(
                choice_of=Value(name, output_field=CharField()),
                choice_label=Cast(label, CharField()),
                choice_sort=Cast(sort, CharField()),
            )
            .values_list("choice_of", "pk", "choice_label", "choice_sort")
            for name, (label, sort) in self.RELATION_LABELS.items()
        ]
        options: dict[str, list[tuple[int, str]]] = {name: [] for name in self.RELATION_LABELS}
        for name, pk, label, _ in (
            parts[0].union(*parts[1:], all=True).order_by("choice_of", "choice_sort", "pk")
        ):
            options[name].append((pk, label))
        return options

    def _local_midnight(self, value) -> datetime:
        # Dates are the organization's calendar days: [00:00 local, next 00:00 local).
        return datetime.combine(value, time.min, tzinfo=self.organization.tzinfo)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        query = search_query(value)
        return queryset.filter(search_vector=query) if query is not None else queryset

    def filter_created_from(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(created_at__gte=self._local_midnight(value))

    def filter_created_to(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(created_at__lt=self._local_midnight(value + timedelta(days=1)))

    def filter_reached(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value in (Stage.WON, Stage.LOST):
            return queryset.filter(stage=value, closed_at__isnull=False)
        return queryset.filter(**{f"{REACHED_AT_FIELD[Stage(value)]}__isnull": False})

    def filter_reached_range(self, queryset: QuerySet, name: str, value) -> QuerySet:
        # Applies to the stage chosen in ``reached``; without it there is no date to compare.
        stage = self.form.cleaned_data.get("reached")
        if not stage:
            return queryset
        field = REACHED_AT_FIELD[Stage(stage)]
        if name == "reached_from":
            return queryset.filter(**{f"{field}__gte": self._local_midnight(value)})
        return queryset.filter(**{f"{field}__lt": self._local_midnight(value + timedelta(days=1))})

    def filter_not_contacted(self, queryset: QuerySet, name: str, value) -> QuerySet:
        from django.utils import timezone

        cutoff = timezone.now() - timedelta(hours=float(value))
        open_stages = [Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY]
        return queryset.filter(
            Q(first_contacted_at__isnull=True), created_at__lte=cutoff, stage__in=open_stages
        )
