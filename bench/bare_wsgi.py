"""The physical floor: a bare WSGI app with psycopg2 and json, no Django.

GET /leads/?org=<slug>&stage=<stage> returns the same page of 50 leads as the
Django reference. It runs as the application role with the tenant setting in
the transaction, like the product, so RLS is part of the floor.
Configured by BENCH_DSN (the owner's URL) and BENCH_APP_ROLE.
"""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs

import psycopg2

from bench.sql import LIST_FIELDS

_SELECT = (
    f"SELECT {', '.join(LIST_FIELDS)} FROM leads_lead "
    "WHERE organization_id = %s AND deleted_at IS NULL AND (%s = '' OR stage = %s) "
    "ORDER BY created_at DESC, id DESC LIMIT 50"
)
_state: dict = {}


def _connection():
    conn = _state.get("conn")
    if conn is None or conn.closed:
        conn = psycopg2.connect(os.environ["BENCH_DSN"])
        with conn.cursor() as cursor:
            cursor.execute(f'SET ROLE "{os.environ.get("BENCH_APP_ROLE", "leadtrack_app")}"')
        conn.commit()
        _state["conn"] = conn
        _state["orgs"] = {}
    return conn


def _org_id(conn, slug: str) -> int | None:
    orgs = _state["orgs"]
    if slug not in orgs:
        with conn.cursor() as cursor:
            cursor.execute("SELECT id FROM tenancy_organization WHERE slug = %s", [slug])
            row = cursor.fetchone()
        conn.commit()
        orgs[slug] = row[0] if row else None
    return orgs[slug]


def application(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    conn = _connection()
    org_id = _org_id(conn, query.get("org", [""])[0])
    if environ.get("PATH_INFO") != "/leads/" or org_id is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    stage = query.get("stage", [""])[0]
    with conn.cursor() as cursor:
        cursor.execute("SELECT set_config('app.organization_id', %s, true)", [str(org_id)])
        cursor.execute(_SELECT, [org_id, stage, stage])
        rows = [dict(zip(LIST_FIELDS, row, strict=True)) for row in cursor.fetchall()]
    conn.commit()
    body = json.dumps({"results": rows}, default=str).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
