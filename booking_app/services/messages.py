"""Booking messages: send, read markers, banner dismissal and unread counts, one transaction each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from .. import realtime
from ..extensions import db
from ..models import Booking, Message, MessageRead, User
from . import ServiceError
from .clock import now
from .mail import queue_message_mail

MAX_BODY = 2000
PREVIEW_CHARS = 80
NOT_FOUND = "We could not find that booking. Check the link, or open it from your dashboard."


@dataclass(frozen=True)
class BannerMessage:
    """The newest unread message a user has not dismissed, with what the banner shows."""

    booking_id: int
    message_id: int
    sender_name: str
    preview: str
    lesson_starts_at: datetime


def can_access(booking: Booking, user: Any) -> bool:
    """Return whether the user may read and write this booking's thread (its two parties or an owner)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.id in (booking.student_id, booking.instructor_id) or user.is_owner)


def booking_for(booking_id: int, user: Any) -> Booking:
    """Return the booking if the user may see its thread; refuse with 404 otherwise (never reveal it)."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not can_access(booking, user):
        raise ServiceError(NOT_FOUND, "not_found", 404)
    return booking


def thread(booking: Booking) -> list[Message]:
    """Return the booking's messages, oldest first."""
    return list(db.session.scalars(sa.select(Message).where(Message.booking_id == booking.id).order_by(Message.id)))


def preview(body: str, limit: int = PREVIEW_CHARS) -> str:
    """Return the first words of a message on one line, cut at a word with an ellipsis when long."""
    flat = re.sub(r"\s+", " ", body).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


def check_body(body: str | None) -> str:
    """Return the body unchanged if it can be sent, else refuse with a sentence saying what to fix."""
    if body is None or not body.strip():
        raise ServiceError("Write a message before sending it.", "invalid", 422, field="body")
    if len(body) > MAX_BODY:
        raise ServiceError(
            f"Keep your message to {MAX_BODY} characters or fewer (this one has {len(body)}). "
            "Shorten it or split it into two messages.",
            "too_long", 422, field="body",
        )
    if "\x00" in body:
        raise ServiceError("Remove the invisible null character from your message and send it again.",
                           "invalid", 422, field="body")
    return body


def participant_ids(booking: Booking) -> set[int]:
    """Return who follows the thread: its student, its instructor, and anyone else (an owner) who wrote in it."""
    writers = db.session.scalars(
        sa.select(Message.sender_id).where(Message.booking_id == booking.id).distinct()
    )
    return {booking.student_id, booking.instructor_id, *writers}


def send_message(booking: Booking, sender: User, body: str | None) -> Message:
    """Add a message to the booking's thread and tell its participants live, after commit."""
    if not can_access(booking, sender):
        raise ServiceError(NOT_FOUND, "not_found", 404)
    text = check_body(body)
    message = Message(booking_id=booking.id, sender_id=sender.id, body=text, created_at=now())
    db.session.add(message)
    db.session.flush()
    # Your own message is read by you: it never glows for its sender.
    _upsert_read(sender.id, booking.id, last_read_message_id=message.id)
    recipients = participant_ids(booking) | {sender.id}
    realtime.publish(
        [realtime.user_channel(uid) for uid in sorted(recipients)],
        "message.sent",
        {
            "booking_id": booking.id,
            "message_id": message.id,
            "sender_id": sender.id,
            "sender_name": sender.name,
            "preview": preview(text),
            "lesson_starts_at": booking.starts_at.isoformat().replace("+00:00", "Z"),
        },
    )
    # The "new messages" mail is batched (one per thread and recipient at a time), written in this transaction.
    for uid in sorted(recipients - {sender.id}):
        queue_message_mail(booking.id, uid, now=message.created_at)
    db.session.commit()
    return message


def mark_read(booking: Booking, user: User) -> int:
    """Mark the thread read up to its newest message; the user's other tabs clear the glow live."""
    if not can_access(booking, user):
        raise ServiceError(NOT_FOUND, "not_found", 404)
    newest = db.session.scalar(sa.select(sa.func.max(Message.id)).where(Message.booking_id == booking.id)) or 0
    current = db.session.get(MessageRead, (user.id, booking.id))
    if newest == 0 or (current is not None and current.last_read_message_id >= newest):
        return newest
    _upsert_read(user.id, booking.id, last_read_message_id=newest)
    realtime.publish([realtime.user_channel(user.id)], "message.read",
                     {"booking_id": booking.id, "last_read_message_id": newest})
    db.session.commit()
    return newest


def dismiss_banner(booking: Booking, user: User, message_id: int) -> None:
    """Hide the banner for this message (and older ones of the booking) while keeping them unread."""
    if not can_access(booking, user):
        raise ServiceError(NOT_FOUND, "not_found", 404)
    newest = db.session.scalar(sa.select(sa.func.max(Message.id)).where(Message.booking_id == booking.id)) or 0
    target = min(max(int(message_id), 0), newest)
    if target:
        _upsert_read(user.id, booking.id, dismissed_message_id=target)
        realtime.touch_headers([user.id])
    db.session.commit()


def _unread_conditions(user_id: int, is_owner: bool) -> tuple[Any, Any]:
    """Return (read-marker alias, WHERE clause) selecting messages unread by the user in threads they follow."""
    read = aliased(MessageRead)
    wrote = aliased(Message)
    parties = [Booking.student_id == user_id, Booking.instructor_id == user_id]
    if is_owner:
        # An owner who joined a thread follows it from then on.
        parties.append(sa.exists().where(wrote.booking_id == Booking.id, wrote.sender_id == user_id))
    follows = sa.or_(*parties)
    where = sa.and_(
        Message.sender_id != user_id,
        Message.id > sa.func.coalesce(read.last_read_message_id, 0),
        follows,
    )
    return read, where


def unread_counts(user: User) -> dict[int, int]:
    """Return {booking_id: unread message count} for the user, in one query."""
    read, where = _unread_conditions(user.id, user.is_owner)
    rows = db.session.execute(
        sa.select(Message.booking_id, sa.func.count(Message.id))
        .join(Booking, Booking.id == Message.booking_id)
        .outerjoin(read, sa.and_(read.booking_id == Message.booking_id, read.user_id == user.id))
        .where(where)
        .group_by(Message.booking_id)
    )
    return {int(booking_id): int(n) for booking_id, n in rows}


def newest_unread(user: User) -> BannerMessage | None:
    """Return the newest unread message the user has not dismissed (what the banner shows), in one query."""
    read, where = _unread_conditions(user.id, user.is_owner)
    row = db.session.execute(
        sa.select(Message.id, Message.booking_id, Message.body, User.name, Booking.starts_at)
        .join(Booking, Booking.id == Message.booking_id)
        .join(User, User.id == Message.sender_id)
        .outerjoin(read, sa.and_(read.booking_id == Message.booking_id, read.user_id == user.id))
        .where(where, Message.id > sa.func.coalesce(read.dismissed_message_id, 0))
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return BannerMessage(booking_id=row.booking_id, message_id=row.id, sender_name=row.name,
                         preview=preview(row.body), lesson_starts_at=row.starts_at)


def _upsert_read(user_id: int, booking_id: int, **markers: int) -> None:
    # One statement so two tabs marking at once cannot collide on the primary key; markers only move forward.
    dialect = db.session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(MessageRead).values(user_id=user_id, booking_id=booking_id, read_at=now(), **markers)
    column = next(iter(markers))
    table = MessageRead.__table__
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.booking_id],
        set_={column: stmt.excluded[column], "read_at": stmt.excluded.read_at},
        where=table.c[column] < stmt.excluded[column],
    )
    db.session.execute(stmt)


def unread_by_student(user: User, instructor_ids: list[int]) -> dict[tuple[int, int], int]:
    """Return {(instructor_id, student_id): messages unread by the user} over those instructors' threads, in one query."""
    if not instructor_ids:
        return {}
    read, where = _unread_conditions(user.id, user.is_owner)
    rows = db.session.execute(
        sa.select(Booking.instructor_id, Booking.student_id, sa.func.count(Message.id))
        .select_from(Message)
        .join(Booking, Booking.id == Message.booking_id)
        .outerjoin(read, sa.and_(read.booking_id == Message.booking_id, read.user_id == user.id))
        .where(where, Booking.instructor_id.in_(instructor_ids))
        .group_by(Booking.instructor_id, Booking.student_id)
    )
    return {(int(i), int(s)): int(n) for i, s, n in rows}
