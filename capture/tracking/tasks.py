"""Celery door to the drain: beat runs it every few seconds; each run moves one batch per
call and queues itself again while the stream holds more."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from capture.tracking import services, stream
from leadtrack.celery import app

logger = logging.getLogger(__name__)

# Batches per task run before handing the worker back (the next beat tick continues).
MAX_BATCHES_PER_RUN = 20


@app.task(
    name="tracking.page_views_drain",
    autoretry_for=(OperationalError, InterfaceError, RedisConnectionError),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def page_views_drain_task() -> int:
    """Not an OrgTask: the stream mixes organizations; the service enters each one's context."""
    written = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        written += services.page_views_drain()
        if not stream.length():
            break
    if written:
        logger.info("tracking drain wrote %s page views", written)
    return written
