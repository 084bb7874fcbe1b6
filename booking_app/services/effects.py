"""Durable side effects: rows written with the change that causes them, run by the worker after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Effect
from . import clock

log = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {}  # filled by services/registry.py
# A claim older than this belongs to a worker that died: the effect is run again. With the sweep every
# 30 seconds, a lost effect runs again within a minute. Handlers finish well within it (SMTP waits 10 s).
CLAIM_TIMEOUT = timedelta(seconds=30)
_running: ContextVar[int | None] = ContextVar("running_effect", default=None)
MAX_ATTEMPTS = 8


Handler = Callable[[dict[str, Any]], None]


def register(kind: str, fn: Handler) -> None:
    """Register the function that carries out effects of this kind (services/registry.py lists them all)."""
    HANDLERS[kind] = fn


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for effects of this kind (for tests and add-ons; the app uses the registry)."""

    def decorate(fn: Handler) -> Handler:
        register(kind, fn)
        return fn

    return decorate


def schedule(kind: str, payload: dict[str, Any], *, due_at: datetime | None = None, dedupe_key: str | None = None,
             flush: bool = True) -> Effect:
    """Add an effect to the current transaction; the worker is woken for it after commit.

    With flush=False the row is written with the caller's next flush (one INSERT for many rows).
    """
    effect = Effect(kind=kind, payload=payload, due_at=due_at or clock.now(), dedupe_key=dedupe_key)
    db.session.add(effect)
    if flush:
        db.session.flush()
        db.session.info.setdefault("pending_effects", []).append((effect.id, effect.due_at))
    else:
        db.session.info.setdefault("unflushed_effects", []).append(effect)
    return effect


@sa_event.listens_for(Session, "after_flush_postexec")
def _note_flushed(session: Session, _context: Any) -> None:
    waiting = session.info.pop("unflushed_effects", None)
    if not waiting:
        return
    pending = session.info.setdefault("pending_effects", [])
    for effect in waiting:
        if effect.id is None:
            session.info.setdefault("unflushed_effects", []).append(effect)
        else:
            pending.append((effect.id, effect.due_at))


@sa_event.listens_for(Session, "after_commit")
def _wake_worker(session: Session) -> None:
    pending = session.info.pop("pending_effects", None)
    if not pending or not has_app_context():
        return
    # The app supplies the waker (jobs.enqueue_effect), so services never import the job layer.
    wake = current_app.extensions.get("wake_effect")
    if wake is None:
        return  # nothing to wake: the periodic sweep runs the effect
    for effect_id, due_at in pending:
        wake(effect_id, due_at)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous: Any) -> None:
    session.info.pop("pending_effects", None)
    session.info.pop("unflushed_effects", None)


def running_effect() -> int | None:
    """Return the id of the effect whose handler is running now, if any."""
    return _running.get()


def begin_irreversible(now: datetime | None = None) -> bool:
    """Record that the running effect starts a step that cannot be taken back; False if an earlier attempt did.

    Committed at once, so that a crash after this point is seen by the next attempt: the step is then skipped
    (at most once) rather than repeated. Outside an effect it always answers True.
    """
    effect_id = _running.get()
    if effect_id is None:
        return True
    result = db.session.execute(
        sa.update(Effect).where(Effect.id == effect_id, Effect.started_at.is_(None))
        .values(started_at=now or clock.now())
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0))


def run_effect(effect_id: int, now: datetime | None = None) -> bool:
    """Claim and carry out one effect; return True if it ran now (False: done, not due, or claimed elsewhere)."""
    now = now or clock.now()
    result: sa.CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        sa.update(Effect)
        .where(
            Effect.id == effect_id,
            Effect.done_at.is_(None),
            Effect.due_at <= now,
            Effect.attempts < MAX_ATTEMPTS,
            sa.or_(Effect.claimed_at.is_(None), Effect.claimed_at < now - CLAIM_TIMEOUT),
        )
        .values(claimed_at=now, attempts=Effect.attempts + 1)
    )
    claimed = result.rowcount
    db.session.commit()
    if not claimed:
        return False
    effect = db.session.get(Effect, effect_id)
    assert effect is not None
    fn = HANDLERS.get(effect.kind)
    token = _running.set(effect_id)
    try:
        if fn is None:
            raise LookupError(f"no handler for effect kind {effect.kind!r}")
        fn(dict(effect.payload))
    except Exception as exc:
        db.session.rollback()
        log.exception("effect %s (%s) failed", effect_id, effect.kind if effect else "?")
        db.session.execute(
            sa.update(Effect).where(Effect.id == effect_id).values(claimed_at=None, last_error=repr(exc)[:2000])
        )
        db.session.commit()
        if current_app.testing and current_app.config.get("EFFECTS_RAISE", True):
            raise
        return False
    finally:
        _running.reset(token)
    db.session.execute(sa.update(Effect).where(Effect.id == effect_id).values(done_at=now, last_error=""))
    db.session.commit()
    return True


def run_due(now: datetime | None = None, limit: int = 500) -> int:
    """Run every effect that is due and not done; return how many ran."""
    now = now or clock.now()
    ids = db.session.scalars(
        sa.select(Effect.id)
        .where(Effect.done_at.is_(None), Effect.due_at <= now, Effect.attempts < MAX_ATTEMPTS)
        .order_by(Effect.due_at)
        .limit(limit)
    ).all()
    db.session.commit()
    return sum(run_effect(effect_id, now) for effect_id in ids)
