"""Events between the web-capture apps.

Forms (and the API's identify call) announce that a tracked visitor is now a known lead;
tracking subscribes and moves the visitor's earlier visits onto the lead's timeline.
"""

from django.dispatch import Signal

# kwargs: organization_id, lead_id, visitor_id (the first-party id the tracking script keeps), via
visitor_identified = Signal()
