"""The studio's audit log: record who did what to whom, and read it back with every booking change, newest first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from .. import wording
from ..domain.audit import AuditAction
from ..extensions import db
from ..models import AuditEntry, Booking, BookingChange, User
from . import clock
from .paging import Page

__all__ = ["AuditAction", "AuditFilters", "AuditLine", "AuditPage", "export", "page", "people", "record"]

PAGE_SIZE = 50
CSV_LIMIT = 100_000


def record(actor: User | None, action: AuditAction | str, *, subject: User | None = None,
           booking: Booking | None = None, detail: dict[str, Any] | None = None) -> AuditEntry:
    """Add one line to the audit log (not committed: it joins the caller's transaction); `actor` None is the system."""
    entry = AuditEntry(
        at=clock.now(), actor_id=actor.id if actor else None, action=AuditAction(action).value,
        subject_user_id=subject.id if subject else None, booking_id=booking.id if booking else None,
        detail=dict(detail or {}),
    )
    db.session.add(entry)
    return entry


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """Which lines to show: a person (as actor or subject) and a range of instants."""

    person_id: int | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None


@dataclass(frozen=True)
class AuditLine:
    """One line of the log: an audit entry or a booking change, said in words."""

    at: datetime
    kind: str  # "account" or "booking"
    action: str  # an AuditAction value, or the booking change's kind ("requested", "moved", ...)
    actor: str
    words: str
    subject: str
    booking_id: int | None
    lesson_at: datetime | None
    detail: str


class AuditPage(Page[AuditLine]):
    """A page of the audit log."""

    @property
    def lines(self) -> list[AuditLine]:
        return self.rows


def _union(filters: AuditFilters) -> sa.Subquery:
    """Both sources as one selectable of (source, row id, at): filters apply here so paging is done by the database."""
    entries = sa.select(sa.literal("account").label("source"), AuditEntry.id.label("row_id"), AuditEntry.at.label("at"))
    changes = sa.select(sa.literal("booking").label("source"), BookingChange.id.label("row_id"),
                        BookingChange.at.label("at")).join(Booking, Booking.id == BookingChange.booking_id)
    if filters.person_id is not None:
        pid = filters.person_id
        entries = entries.where(sa.or_(AuditEntry.actor_id == pid, AuditEntry.subject_user_id == pid))
        changes = changes.where(sa.or_(BookingChange.actor_id == pid, Booking.student_id == pid,
                                       Booking.instructor_id == pid))
    if filters.starts_from is not None:
        entries = entries.where(AuditEntry.at >= filters.starts_from)
        changes = changes.where(BookingChange.at >= filters.starts_from)
    if filters.starts_before is not None:
        entries = entries.where(AuditEntry.at < filters.starts_before)
        changes = changes.where(BookingChange.at < filters.starts_before)
    return sa.union_all(entries, changes).subquery("log")


def _name(user: User | None) -> str:
    if user is None:
        return wording.SYSTEM_ACTOR
    return wording.DELETED_USER if user.is_deleted else user.name


def _lines(keys: list[tuple[str, int]]) -> list[AuditLine]:
    """Load the rows behind (source, id) keys in a fixed number of queries and say each in words, keys' order kept."""
    entry_ids = [i for source, i in keys if source == "account"]
    change_ids = [i for source, i in keys if source == "booking"]
    actor_user, subject_user = aliased(User), aliased(User)
    entries = {
        row[0].id: row for row in db.session.execute(
            sa.select(AuditEntry, actor_user, subject_user)
            .outerjoin(actor_user, actor_user.id == AuditEntry.actor_id)
            .outerjoin(subject_user, subject_user.id == AuditEntry.subject_user_id)
            .where(AuditEntry.id.in_(entry_ids))
        )
    } if entry_ids else {}
    changes = {
        change.id: change for change in db.session.scalars(
            sa.select(BookingChange).where(BookingChange.id.in_(change_ids))
            .options(joinedload(BookingChange.booking))
        ).unique()
    } if change_ids else {}
    lines = []
    for source, row_id in keys:
        if source == "account":
            entry, who, whom = entries[row_id]
            # "deleted their own account" needs no second name.
            subject = _name(whom) if whom is not None and entry.subject_user_id != entry.actor_id else ""
            lines.append(AuditLine(
                entry.at, "account", entry.action, _name(who), wording.AUDIT_WORDS.get(entry.action, entry.action),
                subject, entry.booking_id, None, wording.audit_detail(entry.action, entry.detail or {}),
            ))
        else:
            change = changes[row_id]
            booking = change.booking
            kind = wording.booking_change_kind(
                str(change.from_status) if change.from_status else None, str(change.to_status),
                change.actor_id == booking.student_id,
            )
            lines.append(AuditLine(
                change.at, "booking", kind, _name(change.actor), wording.BOOKING_CHANGE_WORDS.get(kind, kind),
                f"{_name(booking.student)} with {_name(booking.instructor)}", booking.id, booking.starts_at,
                change.note,
            ))
    return lines


def page(filters: AuditFilters, *, number: int | None = 1) -> AuditPage:
    """Return one page of the log, newest first (four queries whatever the page holds)."""
    number = max(1, number or 1)
    log = _union(filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(log)) or 0
    keys = db.session.execute(
        sa.select(log.c.source, log.c.row_id).order_by(log.c.at.desc(), log.c.source, log.c.row_id.desc())
        .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)
    ).all()
    return AuditPage(_lines([(str(s), int(i)) for s, i in keys]), number, int(total), PAGE_SIZE)


def export(filters: AuditFilters, *, chunk: int = 500) -> Iterator[AuditLine]:
    """Yield every line of the filtered log, newest first, a chunk of rows at a time."""
    log = _union(filters)
    keys = db.session.execute(
        sa.select(log.c.source, log.c.row_id).order_by(log.c.at.desc(), log.c.source, log.c.row_id.desc())
        .limit(CSV_LIMIT)
    ).all()
    for start in range(0, len(keys), chunk):
        yield from _lines([(str(s), int(i)) for s, i in keys[start:start + chunk]])


def people() -> list[tuple[int, str]]:
    """Return everyone the person filter offers, by name (deleted accounts last, as "Deleted user #12")."""
    rows = db.session.scalars(sa.select(User).order_by(User.deleted_at.is_not(None), User.name, User.id))
    # Several deleted accounts share one name; their number tells them apart.
    return [(u.id, f"{_name(u)} #{u.id}" if u.is_deleted else _name(u)) for u in rows]
