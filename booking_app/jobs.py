"""RQ jobs: they take ids, reload state, and do nothing when the state has moved on (handlers: services/registry.py)."""

from __future__ import annotations

import logging
from datetime import datetime

import redis
from flask import current_app
from rq import Queue

from .services import effects, maintenance

log = logging.getLogger(__name__)

QUEUE_NAME = "booking"
SWEEP_LOCK = "sweep:lock"


def queue() -> Queue:
    """Return the app's job queue."""
    return Queue(QUEUE_NAME, connection=current_app.extensions["redis"])


def enqueue_effect(effect_id: int, due_at: datetime) -> None:
    """Wake the worker for an effect at its due time; the periodic sweep covers a lost wake-up."""
    try:
        q = queue()
        if due_at.timestamp() > datetime.now(due_at.tzinfo).timestamp() + 1:
            q.enqueue_at(due_at, run_effect_job, effect_id, job_id=f"effect-{effect_id}")
        else:
            q.enqueue(run_effect_job, effect_id, job_id=f"effect-{effect_id}")
    except redis.RedisError as exc:
        log.warning("effect %s not enqueued (%s); the sweep will run it", effect_id, exc)


def run_effect_job(effect_id: int) -> bool:
    """Carry out one stored effect (idempotent: a second run finds it done)."""
    return effects.run_effect(effect_id)


def sweep() -> dict[str, int]:
    """Persist expiries and completions, then run every due effect — the safety net for lost wake-ups."""
    return maintenance.sweep()


def maybe_enqueue_sweep(interval_seconds: int = 60) -> bool:
    """Enqueue one sweep per interval across all workers on all machines."""
    client: redis.Redis = current_app.extensions["redis"]
    if client.set(SWEEP_LOCK, "1", nx=True, ex=max(interval_seconds - 5, 1)):
        queue().enqueue(sweep, job_id=None)
        return True
    return False
