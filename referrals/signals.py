"""Domain events about referrals, sent after the transaction commits (webhooks subscribe here).

Receivers run outside the request's organization: they get ids and enter the tenant themselves.
"""

from django.dispatch import Signal

# kwargs: organization_id, referral_id, status, referrer_kind, partner_id
referral_created = Signal()
# kwargs: organization_id, referral_id, from_status, to_status, partner_id
referral_status_changed = Signal()
