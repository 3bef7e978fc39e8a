"""Dashboards: numbers equal metric_values' and the CSV's; ownership; permissions; recompute progress."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from leadtrack.tenancy.context import tenant_context
from reports.metrics import REGISTRY
from reports.models import SnapshotRun
from reports.selectors import metric_values
from reports.views import BREAKDOWN_METRICS, format_value
from tests.factories import make_lead
from tests.reports.conftest import Q2_FROM, Q2_TO

Q2 = {"date_from": Q2_FROM.isoformat(), "date_to": Q2_TO.isoformat()}


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def read_csv(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("dimension", sorted(BREAKDOWN_METRICS))
def test_breakdown_numbers_equal_metric_values_and_the_csv(funnel, mike, login, dimension):
    client = login(mike)
    page = client.get(url("dashboards_breakdown", funnel.org, dimension=dimension), Q2)
    assert page.status_code == 200
    html = page.content.decode()
    exported = read_csv(
        client.get(url("dashboards_breakdown", funnel.org, dimension=dimension), {**Q2, "format": "csv"})
    )
    for metric_name in BREAKDOWN_METRICS[dimension]:
        with tenant_context(funnel.org):
            rows = metric_values(
                org=funnel.org,
                metric=metric_name,
                period="custom",
                group_by=[dimension],
                date_from=Q2_FROM,
                date_to=Q2_TO,
                filters={},
            )
        by_key = {row[dimension]: row for row in exported}
        assert {row[dimension] for row in rows} <= set(by_key)
        for row in rows:
            exported_value = by_key[row[dimension]][metric_name]
            assert exported_value == ("" if row["value"] is None else repr(row["value"]))
            if not metric_name.endswith("_share"):
                from reports.metrics import Value

                shown = format_value(Value(row["value"]), REGISTRY[metric_name].unit, funnel.org.currency)
                assert shown in html


def test_funnel_counts_link_to_exactly_those_leads(funnel, mike, login):
    client = login(mike)
    html = client.get(url("dashboards_funnel", funnel.org), {**Q2, "basis": "flow"}).content.decode()
    links = dict(
        (label, href.replace("&amp;", "&"))
        for href, label in re.findall(r'<a href="([^"]+)" data-metric="([^"]+)"', html)
    )
    assert links["MQLs"].endswith("reached=mql&reached_from=2025-04-01&reached_to=2025-06-30")
    listed = client.get(links["MQLs"])
    assert listed.status_code == 200
    for name in ("L1", "L2", "L3", "L4", "L5", "L8", "L9"):  # the 7 MQLs of Q2 (flow)
        assert f">{name}<" in listed.content.decode()
    cohort = client.get(url("dashboards_funnel", funnel.org), Q2).content.decode()
    assert "30.0 %" in cohort  # the Lead→MQL benchmark beside the rate


def test_every_page_renders_and_says_as_of(funnel, mike, login):
    client = login(mike)
    for name in ("dashboards_funnel", "dashboards_trends", "dashboards_velocity", "dashboards_live"):
        response = client.get(url(name, funnel.org), Q2 if name != "dashboards_live" else {})
        assert response.status_code == 200
        assert "as of" in response.content.decode()
    assert client.get(url("dashboards_methodology", funnel.org)).status_code == 200
    assert client.get(url("dashboards_live_data", funnel.org)).json()["new_leads"] == 0


def test_bad_filters_are_a_400_not_a_500(funnel, mike, login):
    client = login(mike)
    response = client.get(
        url("dashboards_funnel", funnel.org), {"date_from": "2025-06-01", "date_to": "2025-01-01"}
    )
    assert response.status_code == 400
    assert client.get(url("dashboards_funnel", funnel.org), {"source": "nope"}).status_code == 400


def test_other_org_pages_and_csvs_never_show_our_data(funnel, charlie, other_org, login):
    make_lead(other_org, company="Globex Only")
    client = login(charlie)
    for dimension in BREAKDOWN_METRICS:
        response = client.get(
            url("dashboards_breakdown", other_org, dimension=dimension), {**Q2, "format": "csv"}
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert "Web" not in body and "Partner" not in body
    # Acme's slug is a 404 for an outsider, for pages, CSVs and JSON alike.
    assert client.get(url("dashboards_funnel", funnel.org)).status_code == 404
    assert (
        client.get(url("dashboards_breakdown", funnel.org, dimension="source"), {"format": "csv"}).status_code
        == 404
    )
    assert client.get(url("dashboards_live_data", funnel.org)).status_code == 404


def test_a_run_of_another_org_is_a_404(funnel, mike, charlie, other_org, login):
    with tenant_context(other_org):
        theirs = SnapshotRun.objects.create(organization=other_org, trigger=SnapshotRun.Trigger.MANUAL)
    assert login(mike).get(url("dashboards_run_status", funnel.org, run_id=theirs.pk)).status_code == 404


def test_sales_reps_cannot_see_dashboards_and_viewers_cannot_recompute(funnel, bob, vera, login):
    assert login(bob).get(url("dashboards_funnel", funnel.org)).status_code == 403
    client = login(vera)
    assert client.get(url("dashboards_funnel", funnel.org)).status_code == 200
    assert client.post(url("dashboards_recompute", funnel.org)).status_code == 403
    assert client.get(url("dashboards_settings", funnel.org)).status_code == 403


def test_recompute_now_runs_and_reports_progress(funnel, mike, login, django_capture_on_commit_callbacks):
    client = login(mike)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("dashboards_recompute", funnel.org), {"next": url("dashboards_trends", funnel.org)}
        )
    assert response.status_code == 302
    run_id = int(response["Location"].rsplit("run=", 1)[1])
    status = client.get(url("dashboards_run_status", funnel.org, run_id=run_id)).json()
    assert status["status"] == "done" and status["done"] == status["total"]
    page = client.get(url("dashboards_trends", funnel.org), {**Q2, "grain": "month"}).content.decode()
    assert "Nightly snapshot as of <time>" in page
    assert ">snapshot<" in page


def test_trends_from_snapshots_equal_live_trends(funnel, mike, login):
    from reports.services import snapshot_recompute

    client = login(mike)
    params = {"date_from": "2025-03-01", "date_to": "2025-07-31", "grain": "month", "format": "csv"}
    live = read_csv(client.get(url("dashboards_trends", funnel.org), params))
    with tenant_context(funnel.org):
        snapshot_recompute(org=funnel.org)
    from_snapshots = read_csv(client.get(url("dashboards_trends", funnel.org), params))
    assert {row["source"] for row in from_snapshots} == {"snapshot"}
    strip = [{k: v for k, v in row.items() if k != "source"} for row in from_snapshots]
    assert strip == [{k: v for k, v in row.items() if k != "source"} for row in live]
    assert [row["leads"] for row in live] == ["1.0", "4.0", "2.0", "1.0", "1.0"]


def test_settings_form_saves_benchmarks(funnel, mike, login):
    client = login(mike)
    from reports.forms import ReportSettingsForm

    with tenant_context(funnel.org):
        from reports.selectors import report_settings_get

        data = ReportSettingsForm(instance=report_settings_get(org=funnel.org)).initial
    data = {k: v for k, v in data.items() if k not in ("id", "organization", "updated_at")}
    data["benchmark_lead_to_mql"] = "45"
    assert client.post(url("dashboards_settings", funnel.org), data).status_code == 302
    data["benchmark_lead_to_mql"] = "145"
    assert client.post(url("dashboards_settings", funnel.org), data).status_code == 200
    with tenant_context(funnel.org):
        assert float(report_settings_get(org=funnel.org).benchmark_lead_to_mql) == 45


def test_a_saved_benchmark_is_on_the_funnel_at_once(funnel, mike, login):
    """The dashboards read the settings row from a cache; saving the form must replace it."""
    client = login(mike)
    page = url("dashboards_funnel", funnel.org)

    def lead_to_mql_benchmark() -> str:
        return client.get(page).context["stages"][0]["benchmark"]

    assert lead_to_mql_benchmark() == "30.0 %"  # the default, now cached
    with tenant_context(funnel.org):
        from reports.forms import ReportSettingsForm
        from reports.selectors import report_settings_get

        data = ReportSettingsForm(instance=report_settings_get(org=funnel.org)).initial
    data = {k: v for k, v in data.items() if k not in ("id", "organization", "updated_at")}
    data["benchmark_lead_to_mql"] = "45"
    assert client.post(url("dashboards_settings", funnel.org), data).status_code == 302
    assert lead_to_mql_benchmark() == "45.0 %"


def test_live_today_counts_new_leads_and_moves_by_source_and_rep(org, mike, login):
    from funnel.services import stage_move
    from leads.models import Source

    with tenant_context(org):
        web = Source.objects.create(organization=org, name="Web")
    fresh = make_lead(org, company="Fresh", source=web)
    make_lead(org, company="Other")
    with tenant_context(org):
        stage_move(org=org, actor=mike, lead_id=fresh.pk, to_stage="mql")
    data = login(mike).get(url("dashboards_live_data", org)).json()
    assert data["new_leads"] == 2
    assert sorted(data["by_source"]) == [["(none)", 1], ["Web", 1]]
    assert data["stage_moves"] == 1
    assert data["moves_by_rep"] == [["Mike Manager", 1]]
    page = login(mike).get(url("dashboards_live", org)).content.decode()
    assert 'data-key="by_source"' in page and "Web" in page


def test_filter_selects_offer_what_the_form_widget_offers(funnel, mike):
    from django.template import Context, Template

    from reports.forms import DashboardLeadFilter

    with tenant_context(funnel.org):
        lead_filter = DashboardLeadFilter(
            {"source": str(funnel.web.pk), "country": "FR", "owner": "null"}, organization=funnel.org
        )
        for name in (
            "source",
            "channel_type",
            "campaign",
            "region",
            "country",
            "industry",
            "segment",
            "owner",
        ):
            field = lead_filter.form[name]
            ours = Template("{% load filter_ui %}{% filter_field field %}").render(Context({"field": field}))
            django = f"{field.label_tag()} {field}"

            def options(html):
                return re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html)

            assert options(ours) == options(django), name
            assert len(options(ours)) > (200 if name == "country" else 0)
            assert re.search(r"<label[^>]*>[^<]*</label>", ours).group() == field.label_tag()
            assert f'name="{name}" id="id_{name}"' in ours
        assert ("FR", " selected", "France") in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>',
            Template("{% load filter_ui %}{% filter_field f %}").render(
                Context({"f": lead_filter.form["country"]})
            ),
        )


def _filter_bar(html: str) -> str:
    return html[html.index('<form method="get" class="dash-filters">') :].split("</form>", 1)[0]


def test_the_filter_bar_is_kept_per_query_and_shows_a_new_source_at_once(org, mike, login):
    """The rendered filter bar is cached (reports/_layout.html) under the query and the options' version."""
    from leads.models import Source

    client = login(mike)
    with tenant_context(org):
        web = Source.objects.create(organization=org, name="Web")
    page = url("dashboards_funnel", org)
    plain = _filter_bar(client.get(page).content.decode())
    chosen = _filter_bar(client.get(page, {"source": web.pk}).content.decode())
    assert f'<option value="{web.pk}" selected>Web</option>' in chosen
    assert f'<option value="{web.pk}">Web</option>' in plain
    assert _filter_bar(client.get(page).content.decode()) == plain  # the same query, the same bar
    with tenant_context(org):
        Source.objects.create(organization=org, name="Trade show")
    assert ">Trade show</option>" in _filter_bar(client.get(page).content.decode())
    trends = _filter_bar(client.get(url("dashboards_trends", org)).content.decode())
    assert 'name="grain"' in trends and 'name="basis"' not in trends  # each page keeps its own bar
