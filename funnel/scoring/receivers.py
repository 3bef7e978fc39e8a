"""Lead events → rescoring. Connected in ScoringConfig.ready().

The signals are sent after the write committed: failing to queue a rescoring must not turn that
write into an error response, so it is logged (with the traceback) instead of raised; the nightly
and bulk runs catch up.
"""

from __future__ import annotations

import logging

from leads import signals
from leads.models import Via

from .models import ScoreReason
from .tasks import rescore_later, rescore_pending, rescore_soon

logger = logging.getLogger(__name__)

# Lead fields some rule kind reads (region and segment follow country and employees).
SCORED_FIELDS = frozenset({"industry", "segment", "region", "employees", "job_title", "country"})


def _queue(organization_id: int, lead_id: int, reason: str) -> None:
    try:
        rescore_soon(organization_id=organization_id, lead_ids=[lead_id], reason=reason)
    except Exception:
        logger.exception(
            "could not queue the rescoring of lead %s (organization %s)", lead_id, organization_id
        )


def on_lead_created(sender, *, organization_id: int, lead_id: int, via: str = "", **kwargs) -> None:
    if via == Via.IMPORT:
        # An import chunk: queued now, drained once when the chunk's leads_imported arrives.
        try:
            rescore_later(
                organization_id=organization_id, lead_ids=[lead_id], reason=ScoreReason.LEAD_CREATED
            )
        except Exception:
            logger.exception("could not queue the rescoring of imported lead %s", lead_id)
        return
    _queue(organization_id, lead_id, ScoreReason.LEAD_CREATED)


def on_leads_created(sender, *, organization_id: int, lead_ids: list[int], via: str = "", **kwargs) -> None:
    """A set-based write's leads: one Redis command for the batch (an import's are drained when its
    leads_imported arrives, as for lead_created)."""
    try:
        if via == Via.IMPORT:
            rescore_later(organization_id=organization_id, lead_ids=lead_ids, reason=ScoreReason.LEAD_CREATED)
        else:
            rescore_soon(organization_id=organization_id, lead_ids=lead_ids, reason=ScoreReason.LEAD_CREATED)
    except Exception:
        logger.exception("could not queue the rescoring of %s new leads", len(lead_ids))


def on_leads_imported(sender, *, organization_id: int, **kwargs) -> None:
    try:
        rescore_pending(organization_id=organization_id, reason=ScoreReason.LEAD_CREATED)
    except Exception:
        logger.exception(
            "could not schedule the rescoring of imported leads (organization %s)", organization_id
        )


def on_lead_updated(sender, *, organization_id: int, lead_id: int, changes=None, **kwargs) -> None:
    if SCORED_FIELDS & set(changes or ()):
        _queue(organization_id, lead_id, ScoreReason.LEAD_EDITED)


def on_activity_logged(sender, *, organization_id: int, lead_id: int, **kwargs) -> None:
    _queue(organization_id, lead_id, ScoreReason.ACTIVITY_LOGGED)


def connect() -> None:
    signals.lead_created.connect(on_lead_created, dispatch_uid="scoring_lead_created")
    signals.leads_created.connect(on_leads_created, dispatch_uid="scoring_leads_created")
    signals.lead_updated.connect(on_lead_updated, dispatch_uid="scoring_lead_updated")
    signals.activity_logged.connect(on_activity_logged, dispatch_uid="scoring_activity_logged")
    signals.leads_imported.connect(on_leads_imported, dispatch_uid="scoring_leads_imported")
