"""A person's own data, gathered for download: profile, bookings with their history, messages and notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .. import wording
from ..domain.bookings import Role, Status, effective_status
from ..extensions import db
from ..models import (
    ApiToken,
    Block,
    Booking,
    BookingChange,
    LessonNoteChange,
    Message,
    Notification,
    OneTimeWindow,
    StudentNote,
    User,
    UserSession,
    WeeklyWindow,
)
from . import clock
from .booking_filters import active_ahead

EXPORT_FORMAT = 1


def _iso(instant: datetime | None) -> str | None:
    return wording.iso_utc(instant) if instant is not None else None


def _name(user: User | None) -> str:
    if user is None:
        return wording.SYSTEM_ACTOR
    return wording.DELETED_USER if user.is_deleted else user.name


def export_data(user: User, now: datetime | None = None) -> dict[str, Any]:
    """Return everything the app keeps about the user, and of other people only their names on shared bookings.

    A fixed number of queries whatever the amount: one per kind of row.
    """
    now = now or clock.now()
    own = sa.or_(Booking.student_id == user.id, Booking.instructor_id == user.id)
    booking_rows = list(db.session.scalars(sa.select(Booking).where(own).order_by(Booking.starts_at, Booking.id)).unique())
    own_ids = sa.select(Booking.id).where(own).scalar_subquery()
    changes = db.session.scalars(
        sa.select(BookingChange).where(BookingChange.booking_id.in_(own_ids)).order_by(BookingChange.id)
    ).unique()
    history: dict[int, list[dict[str, Any]]] = {}
    for change in changes:
        history.setdefault(change.booking_id, []).append({
            "at": _iso(change.at), "by": "you" if change.actor_id == user.id else _name(change.actor),
            "from_status": change.from_status, "to_status": change.to_status, "note": change.note,
        })
    note_changes: dict[int, list[dict[str, Any]]] = {}
    for note_change in db.session.scalars(
        sa.select(LessonNoteChange).where(LessonNoteChange.booking_id.in_(own_ids)).order_by(LessonNoteChange.id)
    ).unique():
        note_changes.setdefault(note_change.booking_id, []).append({
            "at": _iso(note_change.at), "field": note_change.field, "text": note_change.body,
            "by": "you" if note_change.actor_id == user.id else _name(note_change.actor),
        })
    messages = db.session.scalars(
        # Their bookings' threads, and what they wrote in any other thread (as the owner may).
        sa.select(Message).where(sa.or_(Message.booking_id.in_(own_ids), Message.sender_id == user.id))
        .order_by(Message.id)
    ).unique()
    notes = db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(now),
        "profile": _profile(user),
        "bookings": [_booking(b, user, history.get(b.id, []), now, note_changes.get(b.id, [])) for b in booking_rows],
        "messages": [{
            "id": m.id, "booking_id": m.booking_id, "from": "you" if m.sender_id == user.id else _name(m.sender),
            "body": m.body, "sent_at": _iso(m.created_at),
        } for m in messages],
        "notifications": [{
            "id": n.id, "kind": n.kind, "text": n.text, "booking_id": n.booking_id,
            "created_at": _iso(n.created_at), "read_at": _iso(n.read_at),
        } for n in notes],
        **_teaching(user),
    }


def _profile(user: User) -> dict[str, Any]:
    tokens = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    sessions = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id))
    return {
        "id": user.id, "name": user.name, "email": user.email, "role": Role(user.role).value,
        "timezone": user.timezone, "active": user.active, "created_at": _iso(user.created_at),
        "emails_switched_off": list(user.email_opt_out or []), "calendar_feed_on": user.feed_token is not None,
        "api_tokens": [{
            "name": t.name, "created_at": _iso(t.created_at), "last_used_at": _iso(t.last_used_at),
            "expires_at": _iso(t.expires_at), "revoked_at": _iso(t.revoked_at),
        } for t in tokens],
        "sessions": [{
            "user_agent": s.user_agent, "started_at": _iso(s.created_at), "ended_at": _iso(s.ended_at),
        } for s in sessions],
    }


def _booking(b: Booking, user: User, history: list[dict[str, Any]], now: datetime,
             note_changes: list[dict[str, Any]]) -> dict[str, Any]:
    # The private note is the instructor's: a student's export holds the summary and its history only.
    teaching = b.student_id != user.id
    notes: dict[str, Any] = {
        "lesson_summary": b.lesson_summary,
        "lesson_notes_history": [c for c in note_changes if teaching or c["field"] == "summary"],
    }
    if teaching:
        notes["private_note"] = b.private_note
    return {
        "id": b.id, "you_are": "student" if b.student_id == user.id else "instructor",
        "instructor": _name(b.instructor), "student": _name(b.student),
        "starts_at": _iso(b.starts_at), "ends_at": _iso(b.ends_at),
        "status": effective_status(Status(b.status), b.expires_at, b.ends_at, now).value,
        "notes": b.notes, "status_reason": b.status_reason, "requested_at": _iso(b.created_at),
        "decided_at": _iso(b.decided_at), "reschedule_of": b.reschedule_of_id, "history": history,
        **notes,
    }


def _teaching(user: User) -> dict[str, Any]:
    if not user.teaches:
        return {}
    settings = user.instructor_settings
    weekly = db.session.scalars(sa.select(WeeklyWindow).where(WeeklyWindow.instructor_id == user.id)
                                .order_by(WeeklyWindow.weekday, WeeklyWindow.start_time))
    once = db.session.scalars(sa.select(OneTimeWindow).where(OneTimeWindow.instructor_id == user.id)
                              .order_by(OneTimeWindow.occurs_on, OneTimeWindow.start_time))
    blocks = db.session.scalars(sa.select(Block).where(Block.instructor_id == user.id).order_by(Block.start_on))
    student_notes = db.session.execute(
        sa.select(StudentNote, User).join(User, User.id == StudentNote.student_id)
        .where(StudentNote.instructor_id == user.id).order_by(StudentNote.student_id)
    ).all()
    return {"teaching": {
        "student_notes": [{
            "student": _name(person), "note": row.note, "colour": row.colour, "updated_at": _iso(row.updated_at),
        } for row, person in student_notes],
        "settings": None if settings is None else {
            "timezone": settings.timezone, "default_lesson_minutes": settings.default_lesson_minutes,
            "buffer_minutes": settings.buffer_minutes, "min_notice_minutes": settings.min_notice_minutes,
            "bio": settings.bio,
        },
        "weekly_windows": [{
            "weekday": w.weekday, "start_time": w.start_time.isoformat("minutes"),
            "end_time": w.end_time.isoformat("minutes"), "lesson_minutes": w.lesson_minutes,
            "effective_from": w.effective_from.isoformat() if w.effective_from else None,
            "effective_until": w.effective_until.isoformat() if w.effective_until else None,
        } for w in weekly],
        "one_time_windows": [{
            "date": w.occurs_on.isoformat(), "start_time": w.start_time.isoformat("minutes"),
            "end_time": w.end_time.isoformat("minutes"), "lesson_minutes": w.lesson_minutes,
        } for w in once],
        "blocks": [{
            "start_date": b.start_on.isoformat(), "end_date": b.end_on.isoformat(),
            "start_time": b.start_time.isoformat("minutes") if b.start_time else None,
            "end_time": b.end_time.isoformat("minutes") if b.end_time else None, "reason": b.reason,
        } for b in blocks],
    }}


def lessons_ahead(user: User, now: datetime | None = None) -> int:
    """Return how many requests and lessons ahead deleting the account would cancel (the confirm page says it)."""
    now = now or clock.now()
    return int(db.session.scalar(
        sa.select(sa.func.count()).select_from(Booking).where(
            sa.or_(Booking.student_id == user.id, Booking.instructor_id == user.id),
            active_ahead(now), Booking.starts_at > now,
        )
    ) or 0)
