"""Domain events about leads, sent after the transaction commits.

Webhooks, scoring and live dashboards subscribe here instead of being called
from the services, so a write path cannot forget them.
"""

from django.dispatch import Signal

# kwargs: organization_id, lead_id, actor_id, via
lead_created = Signal()
# kwargs: organization_id, lead_ids, actor_id, via. Many leads created by one set-based write (the
# bulk import path), sent once instead of one lead_created per lead: a 10,000-row chunk used to cost
# 20,000 Redis round trips in its listeners.
leads_created = Signal()
# kwargs: organization_id, lead_id, actor_id, via, changes ({field: [old, new]})
lead_updated = Signal()
# kwargs: organization_id, lead_id, actor_id, via, from_stage, to_stage, transition_id
lead_stage_changed = Signal()
# kwargs: organization_id, lead_id, activity_id, kind
activity_logged = Signal()
# kwargs: organization_id, lead_id, score, previous_score (sent by the scoring service after it commits)
lead_scored = Signal()
# kwargs: organization_id. Sent after an import batch commits (leads_upsert / leads_upsert_bulk with
# via import), after its leads' lead_created: listeners that batch (scoring) take the batch at once.
leads_imported = Signal()
