"""The API lead's fields, in the order it answers them: plain data, no Django.

The serializers read and write leads by these; the benchmark's references and its bare WSGI
floor (bench/sql.py, which must import without Django) select the same columns.
"""

# (output name, column in .values()) — relations are their ids.
LEAD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "id"),
    ("company", "company"),
    ("contact_name", "contact_name"),
    ("email", "email"),
    ("phone", "phone"),
    ("job_title", "job_title"),
    ("website", "website"),
    ("country", "country"),
    ("region", "region"),
    ("industry", "industry_id"),
    ("employees", "employees"),
    ("segment", "segment"),
    ("source", "source_id"),
    ("campaign", "campaign_id"),
    ("owner", "owner_id"),
    ("stage", "stage"),
    ("score", "score"),
    ("expected_amount", "expected_amount"),
    ("won_amount", "won_amount"),
    ("currency", "currency"),
    ("external_id", "external_id"),
    ("notes", "notes"),
    ("close_reason", "close_reason"),
    ("reached_mql_at", "reached_mql_at"),
    ("reached_sql_at", "reached_sql_at"),
    ("reached_opportunity_at", "reached_opportunity_at"),
    ("closed_at", "closed_at"),
    ("first_contacted_at", "first_contacted_at"),
    ("first_meeting_at", "first_meeting_at"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
    ("version", "version"),
    ("lawful_basis", "lawful_basis"),
    ("marketing_withdrawn_at", "marketing_withdrawn_at"),
)
LEAD_VALUES = tuple(column for _, column in LEAD_COLUMNS)
