"""Tracking pages: roles (403), ownership (404), the snippet, the site form, the Web traffic page."""

from __future__ import annotations

import pytest

from capture.tracking.models import TrackingSite
from leadtrack.tenancy.context import tenant_context
from tests.tracking.conftest import make_site


def test_an_admin_creates_a_site_and_sees_its_snippet(org, alice, login):
    client = login(alice)
    response = client.post(
        f"/o/{org.slug}/tracking/",
        {
            "name": "Marketing site",
            "allowed_domains": "acme.example\nhttps://shop.acme.example/",
            "honour_do_not_track": "on",
        },
    )
    with tenant_context(org):
        site = TrackingSite.objects.get()
    assert response.status_code == 302
    assert (site.name, site.allowed_domains, site.honour_do_not_track, site.require_consent) == (
        "Marketing site",
        ["acme.example", "shop.acme.example"],
        True,
        False,
    )
    page = client.get(response["Location"]).content.decode()
    assert f"/t/{site.key}.js" in page
    assert "&lt;script async src=" in page


def test_bad_domains_are_field_errors(org, alice, login):
    response = login(alice).post(
        f"/o/{org.slug}/tracking/", {"name": "X", "allowed_domains": "not a domain!"}
    )
    assert response.status_code == 200
    assert "is not a host name" in response.content.decode()


def test_a_manager_edits_a_site(org, mike, login, site):
    response = login(mike).post(
        f"/o/{org.slug}/tracking/{site.pk}/",
        {"name": "Renamed", "allowed_domains": "", "require_consent": "on", "is_active": "on"},
    )
    assert response.status_code == 302
    with tenant_context(org):
        site.refresh_from_db()
    assert (site.name, site.allowed_domains, site.honour_do_not_track, site.require_consent) == (
        "Renamed",
        [],
        False,
        True,
    )


@pytest.mark.parametrize("user", ["bob", "vera"])
@pytest.mark.parametrize("path", ["", "{site}/"])
def test_roles_without_tracking_manage_get_403(request, org, site, login, user, path):
    client = login(request.getfixturevalue(user))
    assert client.get(f"/o/{org.slug}/tracking/{path.format(site=site.pk)}").status_code == 403


def test_another_organizations_site_is_404(org, alice, login, other_site):
    client = login(alice)
    assert client.get(f"/o/{org.slug}/tracking/{other_site.pk}/").status_code == 404
    assert client.post(f"/o/{org.slug}/tracking/{other_site.pk}/", {"name": "Mine"}).status_code == 404


def test_an_outsider_gets_404(org, charlie, login, site):
    client = login(charlie)
    assert client.get(f"/o/{org.slug}/tracking/").status_code == 404
    assert client.get(f"/o/{org.slug}/tracking/traffic/").status_code == 404


def test_the_traffic_page_is_for_dashboard_viewers(org, login, vera, bob):
    assert login(vera).get(f"/o/{org.slug}/tracking/traffic/").status_code == 200
    assert login(bob).get(f"/o/{org.slug}/tracking/traffic/").status_code == 403


def test_the_traffic_page_shows_the_kpis_without_javascript(org, alice, login, site, drain):
    from tests.tracking.conftest import event
    from tests.tracking.test_drain import accept
    from tests.tracking.test_metrics import DAY, utc

    accept(
        site,
        event("visitor-0001", "https://acme.example/?utm_source=partner&utm_campaign=cert"),
        at=utc("01-10", "12:00"),
    )
    accept(site, event("visitor-0001", "https://acme.example/pricing"), at=utc("01-10", "12:05"))
    drain()
    page = (
        login(alice)
        .get(
            f"/o/{org.slug}/tracking/traffic/",
            {"date_from": DAY.isoformat(), "date_to": DAY.isoformat(), "grain": "day"},
        )
        .content.decode()
    )
    assert (
        '<tr data-metric="website_traffic"><th scope="row">Website traffic (visits)</th>'
        '<td class="num">1</td>' in page
    )
    assert '<tr data-metric="page_views"><th scope="row">Page views</th><td class="num">2</td>' in page
    assert (
        '<th scope="row">partner</th><td>campaign</td><td class="num">1</td><td class="num">100.0 %</td>'
        in page
    )
    assert 'id="chart-data"' in page


def test_a_reversed_range_is_a_400_with_the_error(org, alice, login):
    response = login(alice).get(
        f"/o/{org.slug}/tracking/traffic/", {"date_from": "2025-02-01", "date_to": "2025-01-01"}
    )
    assert response.status_code == 400
    assert "Must be on or after the start date." in response.content.decode()


def test_the_nav_links_to_tracking(org, alice, vera, login, site):
    assert f'href="/o/{org.slug}/tracking/"' in login(alice).get(f"/o/{org.slug}/tracking/").content.decode()
    assert (
        f'href="/o/{org.slug}/tracking/traffic/"'
        in login(vera).get(f"/o/{org.slug}/tracking/traffic/").content.decode()
    )


def test_make_site_helper_keys_are_unique(org):
    assert make_site(org).key != make_site(org).key
