"""The public endpoints: the script, and events validated, IP-truncated and appended to the stream."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from capture.tracking import stream
from capture.tracking.models import PageView
from capture.tracking.services import MAX_BODY_BYTES, truncate_ip
from leadtrack.tenancy.context import tenant_context
from tests.tracking.conftest import event, make_site


def test_it_serves_the_script_with_the_sites_settings(client, site):
    response = client.get(f"/t/{site.key}.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert f'"siteKey": "{site.key}"' in body
    assert '"honourDoNotTrack": true' in body
    assert f"/t/{site.key}/e" in body
    assert "navigator.sendBeacon" in body


@pytest.mark.parametrize("path", ["/t/ts_nosuchsite000000/e", "/t/bad key/e", "/t/ts_x/e"])
def test_an_unknown_site_key_is_404(client, db, path):
    assert client.post(path, "{}", content_type="text/plain").status_code == 404


def test_an_unknown_script_is_404(client, db):
    assert client.get("/t/ts_nosuchsite000000.js").status_code == 404


def test_an_inactive_site_is_404(client, site, org):
    from capture.tracking.services import site_update

    with tenant_context(org):
        site_update(
            org=org,
            site_id=site.pk,
            name=site.name,
            allowed_domains=[],
            honour_do_not_track=True,
            require_consent=False,
            is_active=False,
        )
    from capture.tracking.selectors import site_cache_forget

    site_cache_forget()
    assert client.get(f"/t/{site.key}.js").status_code == 404


def test_it_appends_a_valid_event_to_the_stream_without_touching_postgresql(post_event, site):
    payload = event(utm_source="partner", referrer="https://search.example/q")
    post_event(site, payload)  # the first request resolves the site key (then cached)
    with_queries = connection.execute_wrapper(_refuse_queries)
    with with_queries:
        response = post_event(site, event())
    assert response.status_code == 204
    assert stream.length() == 2
    stored = json.loads(stream.raw_entries()[0])
    assert stored["url"] == "https://acme.example/"
    assert stored["utm_source"] == "partner"
    assert stored["referrer"] == "https://search.example/q"


def _refuse_queries(execute, sql, params, many, context):
    raise AssertionError(f"the fast path ran SQL: {sql}")


def test_utm_parameters_are_read_from_the_url_when_not_sent(post_event, site):
    post_event(site, event(url="https://acme.example/p?utm_source=news&utm_medium=email&utm_campaign=q3"))
    stored = json.loads(stream.raw_entries()[0])
    assert (stored["utm_source"], stored["utm_medium"], stored["utm_campaign"]) == ("news", "email", "q3")


@pytest.mark.parametrize(
    ("address", "prefix"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:abcd:12:3456:789a:bcde:f012", "2001:db8:abcd::"),
        ("::ffff:198.51.100.9", "198.51.100.0"),
        ("not an ip", None),
    ],
)
def test_ip_addresses_are_truncated(address, prefix):
    assert truncate_ip(address) == prefix


@pytest.mark.parametrize(
    ("address", "prefix", "full_fragment"),
    [
        ("203.0.113.77", "203.0.113.0", "203.0.113.77"),
        ("2001:db8:abcd:12:3456:789a:bcde:f012", "2001:db8:abcd::", "3456:789a"),
    ],
)
def test_no_full_ip_is_stored_in_the_stream_or_the_table(
    post_event, drain, site, org, address, prefix, full_fragment
):
    assert post_event(site, event(), ip=address).status_code == 204
    raw = b"".join(stream.raw_entries()).decode()
    assert prefix in raw
    assert full_fragment not in raw
    assert drain() == 1
    with tenant_context(org):
        assert list(PageView.objects.values_list("ip_prefix", flat=True)) == [prefix]
        with connection.cursor() as cursor:
            cursor.execute("SELECT row_to_json(p)::text FROM tracking_pageview p")
            assert full_fragment not in cursor.fetchone()[0]


def test_do_not_track_is_honoured_on_the_server_too(post_event, site, org):
    assert post_event(site, event(), HTTP_DNT="1").status_code == 204
    assert stream.length() == 0
    ignoring = make_site(org, name="Ignores DNT", honour_do_not_track=False)
    assert post_event(ignoring, event(), HTTP_DNT="1").status_code == 204
    assert stream.length() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"\xff\xfe", "body"),
        (b"[]", "event"),
        (b'"a string"', "event"),
        (json.dumps({"events": []}).encode(), "events"),
        (json.dumps({"events": "x"}).encode(), "events"),
        (json.dumps({"events": [event()] * 21}).encode(), "events"),
        (json.dumps({"visitor_id": "visitor-0001", "url": "https://acme.example/"}).encode(), "event_id"),
        (json.dumps(event(visitor_id="short")).encode(), "visitor_id"),
        (json.dumps(event(url="javascript:alert(1)")).encode(), "url"),
        (json.dumps(event(url="https://evil.example/")).encode(), "url"),
        (json.dumps(event(url=["https://acme.example/"])).encode(), "url"),
        (json.dumps(event(referrer="ftp://x.example/")).encode(), "referrer"),
        (json.dumps(event(utm_source="x" * 201)).encode(), "utm_source"),
        (json.dumps(event(url="https://acme.example/" + "a" * 2000)).encode(), "url"),
    ],
)
def test_malformed_events_are_400_with_field_errors(post_event, site, body, field):
    response = post_event(site, body)
    assert response.status_code == 400
    assert field in response.json()
    assert stream.length() == 0


def test_a_batch_with_one_bad_event_is_refused_whole(post_event, site):
    response = post_event(site, {"events": [event(), event(url="nope")]})
    assert response.status_code == 400
    assert response.json() == {"events.1.url": ["Must be an http(s) URL."]}
    assert stream.length() == 0


def test_an_oversized_body_is_400(post_event, site):
    response = post_event(site, json.dumps(event(subject="x" * MAX_BODY_BYTES)))
    assert response.status_code == 400
    assert response.json() == {"body": [f"At most {MAX_BODY_BYTES} bytes."]}


def test_the_image_fallback_records_a_get(client, site):
    response = client.get(f"/t/{site.key}/e", {"d": json.dumps(event())}, REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert json.loads(stream.raw_entries()[0])["ip"] == "198.51.100.0"


def test_other_methods_are_refused(client, site):
    assert client.put(f"/t/{site.key}/e", "{}").status_code == 405


def test_an_unreachable_stream_is_503_not_500(post_event, site, settings):
    post_event(site, event())  # the site key is resolved and cached first
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = post_event(site, event())
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_an_event_answer_carries_no_content_security_policy_and_the_script_does(post_event, site, client):
    """The event endpoint is exempt (a 204 has no document to protect; leadtrack/csp.py then
    builds no policy at all); everything else keeps the header."""
    accepted = post_event(site, event())
    assert accepted.status_code == 204
    assert "Content-Security-Policy" not in accepted
    script = client.get(f"/t/{site.key}.js")
    assert "default-src 'self'" in script["Content-Security-Policy"]


def test_an_event_is_answered_before_the_session_and_authentication_middleware(
    post_event, site, client, alice
):
    """capture/tracking/middleware.py calls the view itself: the request never gets a session or a
    user, a signed-in visitor's cookie is neither read nor refreshed, and the headers of the
    middleware above it (request id, security) are still there."""
    client.force_login(alice)
    accepted = post_event(site, event())
    assert accepted.status_code == 204
    request = accepted.wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "user")
    assert "Set-Cookie" not in accepted
    assert not accepted.cookies
    assert accepted["X-Request-ID"]
    assert accepted["X-Content-Type-Options"] == "nosniff"
    assert accepted["X-Frame-Options"] == "DENY"
    assert accepted["Cache-Control"].startswith("max-age=0")
    assert len(stream.raw_entries()) == 1
    # Everything else under /t/ still goes through the whole stack.
    script = client.get(f"/t/{site.key}.js")
    assert hasattr(script.wsgi_request, "session")
    assert script["X-Frame-Options"] == "DENY"


def test_an_unknown_site_key_is_a_json_404_on_the_early_path(client, db):
    response = client.post("/t/ts_nosuchsite000000/e", "{}", content_type="text/plain")
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown site."}
    assert response["X-Frame-Options"] == "DENY"
    assert not hasattr(response.wsgi_request, "session")


def test_an_unknown_path_under_the_tracking_prefix_gets_the_sites_404_page(client, db):
    response = client.get("/t/nothing/here/at/all")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert hasattr(response.wsgi_request, "session")
