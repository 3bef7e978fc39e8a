"""Each attribution model against journeys counted by hand (see conftest.py)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from leadtrack.tenancy.context import tenant_context
from reports.attribution.selectors import NO_TOUCHPOINT, attribution_table, campaign_returns
from tests.attribution.conftest import Q2_FROM, Q2_TO, add_journey, add_no_touch, add_one_touch, add_two_touch


def credits(org, *, model, conversion, dimension, date_from=Q2_FROM, date_to=Q2_TO):
    with tenant_context(org):
        table = attribution_table(
            org=org,
            model=model,
            conversion=conversion,
            dimension=dimension,
            date_from=date_from,
            date_to=date_to,
        )
    return {row["label"]: row["values"][f"attribution_{model}"].value for row in table.rows}, table


# The journey's MQL (05-02): touchpoints t1 t2 t3 t4, n = 4 (t5 and t6 come later).
MQL_BY_SOURCE = {
    "first_touch": {"Partner": 1.0},
    "last_touch": {"Ads": 1.0},
    "linear": {"Partner": 0.25, "newsletter": 0.25, "(none)": 0.25, "Ads": 0.25},
    "position_based": {"Partner": 0.4, "newsletter": 0.1, "(none)": 0.1, "Ads": 0.4},
}
# The journey's win (05-20): t1 … t5, n = 5 (t6 is after the win). Position-based: 40 % each to t1 and
# t5 (both Partner), 20 % / 3 to each of t2, t3, t4.
WON_BY_SOURCE = {
    "first_touch": {"Partner": 1.0},
    "last_touch": {"Partner": 1.0},
    "linear": {"Partner": 0.4, "newsletter": 0.2, "(none)": 0.2, "Ads": 0.2},
    "position_based": {"Partner": 0.8, "newsletter": 0.2 / 3, "(none)": 0.2 / 3, "Ads": 0.2 / 3},
}


@pytest.mark.parametrize("model", sorted(MQL_BY_SOURCE))
def test_it_credits_the_journeys_mql_as_each_model_says(world, model):
    add_journey(world)
    found, table = credits(world.org, model=model, conversion="mql", dimension="source")
    assert found == pytest.approx(MQL_BY_SOURCE[model])
    assert table.conversions == 1
    assert table.total.value == pytest.approx(1.0)


@pytest.mark.parametrize("model", sorted(WON_BY_SOURCE))
def test_touches_after_the_conversion_earn_nothing(world, model):
    add_journey(world)
    found, _ = credits(world.org, model=model, conversion="won", dimension="source")
    assert found == pytest.approx(WON_BY_SOURCE[model])


def test_campaigns_match_case_insensitively_and_unknown_utm_values_show_as_sent(world):
    add_journey(world)
    found, _ = credits(world.org, model="position_based", conversion="mql", dimension="campaign")
    assert found == pytest.approx({"Cert": 0.4, "spring-news": 0.1, "(none)": 0.1, "Spring ads": 0.4})


def test_channel_comes_from_the_source_else_from_utm_medium(world):
    add_journey(world)
    found, _ = credits(world.org, model="linear", conversion="mql", dimension="channel")
    assert found == pytest.approx({"Partner referral": 0.25, "email": 0.25, "(none)": 0.25, "Paid": 0.25})


def test_landing_page_is_the_touchs_url_path(world):
    add_journey(world)
    found, _ = credits(world.org, model="linear", conversion="won", dimension="landing_page")
    assert found == pytest.approx(
        {"/pricing": 0.2, "/blog/post": 0.2, "/": 0.2, "/demo": 0.2, "/case-study": 0.2}
    )


def test_one_touch_gets_everything_and_two_touches_split_half_and_half(world):
    add_one_touch(world)
    add_two_touch(world)
    found, table = credits(world.org, model="position_based", conversion="mql", dimension="campaign")
    # O: Spring ads 1.0; T: Cert 0.5, Spring ads 0.5.
    assert found == pytest.approx({"Spring ads": 1.5, "Cert": 0.5})
    assert table.conversions == 2


def test_leads_without_a_touchpoint_are_credited_to_their_own_bucket(world):
    add_journey(world)
    add_no_touch(world)
    found, table = credits(world.org, model="first_touch", conversion="won", dimension="source")
    assert found == pytest.approx({"Partner": 1.0, NO_TOUCHPOINT: 1.0})
    assert table.conversions == 2
    assert table.total.value == pytest.approx(2.0)
    # The bucket comes last whatever its size.
    assert table.rows[-1]["label"] == NO_TOUCHPOINT


def test_attributed_won_revenue_follows_the_credit(world):
    add_journey(world)
    add_no_touch(world)
    with tenant_context(world.org):
        table = attribution_table(
            org=world.org,
            model="linear",
            conversion="won",
            dimension="source",
            date_from=Q2_FROM,
            date_to=Q2_TO,
        )
    revenue = {row["label"]: row["values"]["attributed_won_revenue"].value for row in table.rows}
    # J's $1,000 split in fifths (Partner gets two); N's $200 to the bucket.
    assert revenue == pytest.approx(
        {"Partner": 40000, "newsletter": 20000, "(none)": 20000, "Ads": 20000, NO_TOUCHPOINT: 20000}
    )


def test_conversions_outside_the_period_are_not_counted(world):
    add_journey(world)
    found, table = credits(
        world.org, model="linear", conversion="mql", dimension="source", date_from=date(2025, 5, 3)
    )
    assert found == {}
    assert table.conversions == 0


def test_the_period_is_the_organizations_calendar(world):
    add_journey(world)
    # MQL at 05-02 10:00 New York: a range ending 05-02 (local) includes it; one ending 05-01 does not.
    assert (
        credits(
            world.org, model="first_touch", conversion="mql", dimension="source", date_to=date(2025, 5, 2)
        )[1].conversions
        == 1
    )
    assert (
        credits(
            world.org, model="first_touch", conversion="mql", dimension="source", date_to=date(2025, 5, 1)
        )[1].conversions
        == 0
    )


def test_another_organizations_touchpoints_never_count(world, other_org):
    add_journey(world)
    found, table = credits(other_org, model="linear", conversion="mql", dimension="source")
    assert (found, table.conversions) == ({}, 0)


def test_unknown_choices_are_field_errors(world):
    with tenant_context(world.org), pytest.raises(ValidationError) as exc:
        attribution_table(
            org=world.org,
            model="u_shaped",
            conversion="mql",
            dimension="source",
            date_from=Q2_FROM,
            date_to=Q2_TO,
        )
    assert "model" in exc.value.message_dict


def returns_of(org, model):
    with tenant_context(org):
        rows = campaign_returns(org=org, model=model, date_from=Q2_FROM, date_to=Q2_TO)
    return {row["label"]: {name: value.value for name, value in row["values"].items()} for row in rows}


def test_campaign_cac_and_roi_under_first_touch(world):
    add_journey(world)
    add_one_touch(world)
    add_no_touch(world)
    found = returns_of(world.org, "first_touch")
    # Wins: J → t1 Cert, O → Spring ads, N → no touchpoint. Spend in Q2: Cert $300; Spring ads $500 + $100;
    # Idle $100 (no win); Autumn starts in September (not listed).
    assert set(found) == {"Cert", "Spring ads", "Idle", NO_TOUCHPOINT}
    assert found["Cert"] == pytest.approx(
        {
            "attribution_first_touch": 1.0,
            "attributed_won_revenue": 100000,
            "attributed_cac": 30000,
            "attributed_roi": (200000 - 30000) / 30000,
        }
    )
    assert found["Spring ads"] == pytest.approx(
        {
            "attribution_first_touch": 1.0,
            "attributed_won_revenue": 50000,
            "attributed_cac": 60000,
            "attributed_roi": (80000 - 60000) / 60000,
        }
    )
    assert found["Idle"]["attributed_cac"] is None  # no win: "—"
    assert found["Idle"]["attributed_roi"] == pytest.approx(-1.0)
    assert found[NO_TOUCHPOINT]["attributed_cac"] is None  # no campaign, no spend
    assert found[NO_TOUCHPOINT]["attribution_first_touch"] == pytest.approx(1.0)


def test_campaign_cac_and_roi_under_position_based(world):
    add_journey(world)
    add_one_touch(world)
    add_no_touch(world)
    found = returns_of(world.org, "position_based")
    # J's win: Cert 0.4 + 0.4 (t1, t5), Spring ads 1/15 (t4), spring-news 1/15, (none) 1/15. O: Spring ads 1.
    assert found["Cert"] == pytest.approx(
        {
            "attribution_position_based": 0.8,
            "attributed_won_revenue": 80000,
            "attributed_cac": 30000 / 0.8,
            "attributed_roi": (0.8 * 200000 - 30000) / 30000,
        }
    )
    spring_wins = 1 + 1 / 15
    spring_value = 80000 + 200000 / 15
    assert found["Spring ads"] == pytest.approx(
        {
            "attribution_position_based": spring_wins,
            "attributed_won_revenue": 50000 + 100000 / 15,
            "attributed_cac": 60000 / spring_wins,
            "attributed_roi": (spring_value - 60000) / 60000,
        }
    )
    assert found["spring-news"]["attribution_position_based"] == pytest.approx(1 / 15)
    assert found["spring-news"]["attributed_cac"] is None  # not a campaign of ours: no spend known
