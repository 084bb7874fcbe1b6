"""Standing weekly lessons: request (or book) a series, answer it in one step, cancel from a date, renew it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ... import wording
from ...domain import bookings as rules
from ...domain.bookings import Action, Status
from ...domain.series import Skip, Week, classify_weeks, wall_start, week_starts
from ...domain.slots import Busy, Schedule, is_open_slot
from ...domain.timeutil import utc_to_local
from ...extensions import db
from ...models import Booking, BookingChange, LessonSeries, User
from .. import ServiceError, clock, effects
from ..booking_filters import holds_slot
from ..notifications import notify
from ..slots import SCHEDULE_LOADS, load_schedule
from ..studio import get_studio
from ._writes import (
    announce,
    expire_overdue,
    expire_overdue_at_once,
    history,
    lock_pair,
    set_status,
    slot_write,
)
from .queries import actor_for, facts, status_of
from .requesting import MAX_NOTES, NO_INSTRUCTOR, NOTES_TOO_LONG, TOO_FAR

EXPIRE_EFFECT = "series.expire"


@dataclass
class SeriesOutcome:
    """What a series request (or renewal) did: the series, its lessons, the weeks skipped, and whether it is new."""

    series: LessonSeries | None  # None for a dry run
    bookings: list[Booking]
    skipped: list[Week]
    created: bool
    tz: str
    kept: list[Booking] = field(default_factory=list)
    cancelled: list[Booking] = field(default_factory=list)

    def timeline(self) -> list[tuple[date, Booking | None, Week | None]]:
        """Return every week in date order: its lesson, or the skipped week with its reason."""
        rows: list[tuple[date, Booking | None, Week | None]] = [
            (utc_to_local(b.starts_at, self.tz).date(), b, None) for b in self.bookings
        ]
        rows.extend((w.on, None, w) for w in self.skipped)
        return sorted(rows, key=lambda row: row[0])


class NothingOpen(ServiceError):
    """No week of a series is open: the refusal names every week and why (`details` for the API)."""

    def __init__(self, message: str, skipped: list[Week]) -> None:
        super().__init__(message, "nothing_open", 422)
        self.details = {
            "skipped": [
                {
                    "date": w.on.isoformat(),
                    "reason": str(w.skip),
                    "message": wording.series_skip(str(w.skip), w.on),
                }
                for w in skipped
            ]
        }


def _key(student_id: int, instructor_id: int, starts_at: datetime, lesson_minutes: int, weeks: int) -> str:
    raw = f"{student_id}:{instructor_id}:{starts_at.isoformat()}:{lesson_minutes}:{weeks}"
    return hashlib.sha256(raw.encode()).hexdigest()


def is_staff_of(user: User, instructor_id: int) -> bool:
    """Return whether the user is this instructor or the owner."""
    return user.id == instructor_id or user.is_owner


def _weeks_allowed(weeks: int) -> int:
    maximum = get_studio().series_max_weeks
    if maximum <= 0:
        raise ServiceError(wording.SERIES_OFF, "series_off", 403)
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= maximum:
        raise ServiceError(wording.SERIES_WEEKS_RANGE.format(maximum=maximum), "invalid", 422, field="weeks")
    return maximum


def _student_for(actor: User, instructor_id: int, student_id: int | None) -> tuple[User, bool]:
    """Return who the series is for, and whether staff book them in (confirmed at once)."""
    if student_id is None or student_id == actor.id:
        return actor, False
    if not is_staff_of(actor, instructor_id):
        raise ServiceError(wording.SERIES_STUDENT_ONLY, "forbidden", 403, field="student_id")
    student = db.session.get(User, student_id)
    if student is None or not student.active or student.is_deleted:
        raise ServiceError(wording.SERIES_NO_STUDENT, "no_student", 422, field="student_id")
    return student, True


def _held_around(
    instructor_id: int, student_id: int, first: datetime, last: datetime, pad: timedelta, now: datetime
) -> tuple[list[Busy], list[Busy], list[Booking]]:
    """Return the instructor's and the student's bookings holding time across the series' span, in one query."""
    rows = list(
        db.session.scalars(
            sa.select(Booking)
            .where(
                holds_slot(now),
                Booking.starts_at < last + pad,
                Booking.ends_at > first - pad,
                sa.or_(Booking.instructor_id == instructor_id, Booking.student_id == student_id),
            )
            .order_by(Booking.starts_at, Booking.id)
        ).unique()
    )
    busy = [Busy(b.starts_at, b.ends_at) for b in rows if b.instructor_id == instructor_id]
    mine = [Busy(b.starts_at, b.ends_at) for b in rows if b.student_id == student_id]
    return busy, mine, rows


def _live_series(key: str, now: datetime) -> LessonSeries | None:
    """Return the series this exact request made earlier, while any of its lessons still holds its time."""
    return db.session.scalar(
        sa.select(LessonSeries)
        .where(
            LessonSeries.request_key == key,
            sa.exists().where(Booking.series_id == LessonSeries.id, holds_slot(now)),
        )
        .order_by(LessonSeries.id.desc())
        .limit(1)
    )


def lessons_of(series: LessonSeries) -> list[Booking]:
    """Return the series' lessons by start."""
    return list(
        db.session.scalars(
            sa.select(Booking).where(Booking.series_id == series.id).order_by(Booking.starts_at, Booking.id)
        ).unique()
    )


def request_series(
    actor: User,
    instructor_id: int,
    starts_at: datetime,
    lesson_minutes: int | None,
    weeks: int,
    notes: str = "",
    *,
    student_id: int | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> SeriesOutcome:
    """Request the same lesson every week (pending, one expiry), or book a student in as staff (confirmed).

    Weeks that are not open are skipped and returned with their reason; when none is open nothing is written.
    The same request repeated returns the series it made. A dry run says the same and writes nothing.
    """
    now = now or clock.now()
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ServiceError(NOTES_TOO_LONG, "notes_too_long", 422, field="notes")
    _weeks_allowed(weeks)
    student, by_staff = _student_for(actor, instructor_id, student_id)
    try:
        rules.validate_request(
            instructor_id=instructor_id, student_id=student.id, starts_at=starts_at, now=now
        )
    except rules.RequestRefused as refusal:
        raise ServiceError(refusal.message, refusal.code, 422) from None
    instructor = db.session.get(User, instructor_id, options=SCHEDULE_LOADS)
    if instructor is None or not instructor.teaches or not instructor.active:
        raise ServiceError(NO_INSTRUCTOR, "no_instructor", 422, field="instructor_id")
    schedule = load_schedule(instructor, now)
    if lesson_minutes is None:
        lesson_minutes = _length_at(schedule, starts_at, instructor, now)
    if not by_staff and schedule.horizon_end_at is not None and starts_at >= schedule.horizon_end_at:
        # The first week is an ordinary request; the later ones may reach past the horizon.
        raise ServiceError(TOO_FAR, "beyond_horizon", 422)
    first_on, at = wall_start(starts_at, schedule.tz)
    starts = week_starts(first_on, at, schedule.tz, weeks)
    key = _key(student.id, instructor_id, starts_at, lesson_minutes, weeks)

    with slot_write():
        if not dry_run and expire_overdue_at_once(Booking.instructor_id == instructor_id, now):
            db.session.commit()
        if not dry_run:
            lock_pair(instructor_id, student.id)
            existing = _live_series(key, now)
            if existing is not None:
                db.session.commit()
                return SeriesOutcome(
                    existing, lessons_of(existing), _stored_skips(existing), False, schedule.tz
                )
        classified = _classify(schedule, starts, lesson_minutes, instructor_id, student.id, now, by_staff)
        open_weeks = [w for w in classified if w.is_open]
        skipped = [w for w in classified if not w.is_open]
        if dry_run:
            db.session.rollback()
            preview = [_booking(instructor_id, student.id, w, notes, now, by_staff, now) for w in open_weeks]
            return SeriesOutcome(None, preview, skipped, False, schedule.tz)
        if not open_weeks:
            raise NothingOpen(wording.SERIES_NOTHING_OPEN, skipped)
        series = LessonSeries(
            instructor_id=instructor_id,
            student_id=student.id,
            timezone=schedule.tz,
            weekday=first_on.isoweekday(),
            start_time=at,
            first_on=first_on,
            lesson_minutes=lesson_minutes,
            weeks=weeks,
            created_by_id=actor.id,
            created_at=now,
            request_key=key,
            skipped=_skips_json(skipped),
        )
        db.session.add(series)
        db.session.flush()
        expires = rules.expires_at(now, open_weeks[0].starts_at, get_studio().pending_expiry_hours)  # type: ignore[arg-type]
        bookings = _insert_lessons(
            [
                _booking(instructor_id, student.id, w, notes, now, by_staff, expires, series.id)
                for w in open_weeks
            ],
            actor.id,
            wording.SERIES_HISTORY_NOTE,
            now,
        )

    for booking in bookings:
        announce(booking, "booking.confirmed" if by_staff else "booking.requested")
    summary = summary_of(series)
    if by_staff:
        notify(
            student.id,
            "series.booked",
            wording.series_booked(actor.name, summary, len(bookings)),
            booking_id=bookings[0].id,
            flush=False,
        )
    else:
        notify(
            instructor_id,
            "series.requested",
            wording.series_requested(student.name, summary, len(bookings)),
            booking_id=bookings[0].id,
            flush=False,
        )
        _schedule_expiry(series, bookings[0], expires)
    db.session.commit()
    return SeriesOutcome(series, lessons_of(series), skipped, True, schedule.tz)


def _length_at(schedule: Schedule, starts_at: datetime, instructor: User, now: datetime) -> int:
    """Return the lesson length offered at the first start (the shortest when several), else the default one."""
    slot = is_open_slot(
        replace(schedule, horizon_end_at=None, min_notice_minutes=0), starts_at, None, busy=(), now=now
    )
    if slot is not None:
        return slot.lesson_minutes
    settings = instructor.instructor_settings
    return settings.default_lesson_minutes if settings is not None else 60


def _classify(schedule, starts, lesson_minutes, instructor_id, student_id, now, by_staff) -> list[Week]:  # type: ignore[no-untyped-def]
    real = [s for _, s in starts if s is not None]
    if not real:
        busy: list[Busy] = []
        mine: list[Busy] = []
    else:
        pad = timedelta(minutes=schedule.buffer_minutes + lesson_minutes) + timedelta(days=1)
        busy, mine, _ = _held_around(instructor_id, student_id, real[0], real[-1], pad, now)
    return classify_weeks(
        schedule, starts, lesson_minutes, busy=busy, student_busy=mine, now=now, by_staff=by_staff
    )


def _booking(
    instructor_id: int,
    student_id: int,
    week: Week,
    notes: str,
    now: datetime,
    by_staff: bool,
    expires: datetime,
    series_id: int | None = None,
) -> Booking:
    assert week.starts_at is not None and week.ends_at is not None
    return Booking(
        instructor_id=instructor_id,
        student_id=student_id,
        starts_at=week.starts_at,
        ends_at=week.ends_at,
        status=(Status.CONFIRMED if by_staff else Status.PENDING).value,
        notes=notes,
        created_at=now,
        updated_at=now,
        decided_at=now if by_staff else None,
        status_reason="",
        expires_at=min(expires, week.starts_at),
        series_id=series_id,
    )


_LESSON_COLUMNS = (
    "instructor_id",
    "student_id",
    "starts_at",
    "ends_at",
    "status",
    "notes",
    "created_at",
    "updated_at",
    "decided_at",
    "status_reason",
    "expires_at",
    "series_id",
)


def _insert_lessons(lessons: list[Booking], actor_id: int, note: str, now: datetime) -> list[Booking]:
    """Insert a series' lessons and their first history rows in one statement each, whatever the number of weeks."""
    values = [{column: getattr(b, column) for column in _LESSON_COLUMNS} for b in lessons]
    stored = list(
        db.session.scalars(sa.insert(Booking).returning(Booking, sort_by_parameter_order=True), values)
    )
    db.session.execute(
        sa.insert(BookingChange),
        [
            {
                "booking_id": b.id,
                "actor_id": actor_id,
                "from_status": None,
                "to_status": b.status,
                "note": note,
                "at": now,
            }
            for b in stored
        ],
    )
    return stored


def _skips_json(weeks: list[Week]) -> list[dict[str, str]]:
    return [{"date": w.on.isoformat(), "reason": str(w.skip)} for w in weeks if w.skip is not None]


def _stored_skips(series: LessonSeries) -> list[Week]:
    return [Week(date.fromisoformat(s["date"]), None, None, Skip(s["reason"])) for s in series.skipped or []]


def summary_of(series: LessonSeries) -> str:
    """Name a series in the instructor's zone: "Tuesdays at 5:00 PM, 10 weeks"."""
    weekday = wording.day(series.first_on, "weekday")
    return wording.series_summary(weekday, wording.time_of_day(series.start_time), series.weeks)


def outcome_of(series: LessonSeries) -> SeriesOutcome:
    """Return a stored series as an outcome: every lesson and the weeks skipped when it was asked for."""
    return SeriesOutcome(series, lessons_of(series), _stored_skips(series), False, series.timezone)


def get_series_for(user: User, series_id: int) -> LessonSeries:
    """Return a series the user may see (its student, its instructor, the owner), or raise a 404."""
    series = db.session.get(LessonSeries, series_id)
    if series is None or not rules.can_view(series.instructor_id, series.student_id, actor_for(user)):
        raise ServiceError(wording.SERIES_NOT_FOUND, "not_found", 404)
    return series


def _staff_series(user: User, series_id: int) -> LessonSeries:
    series = get_series_for(user, series_id)
    if user.id == series.student_id or not is_staff_of(user, series.instructor_id):
        raise ServiceError(wording.SERIES_STAFF_ONLY, "forbidden", 403)
    return series


def answer_series(
    user: User,
    series_id: int,
    confirm_ids: list[int] | None = None,
    *,
    decline_all: bool = False,
    reason: str = "",
    now: datetime | None = None,
) -> SeriesOutcome:
    """Answer a pending series in one step: confirm the chosen requests (all when none are named), decline the rest."""
    now = now or clock.now()
    reason = (reason or "").strip()[:500]
    series = _staff_series(user, series_id)
    lessons = lessons_of(series)
    pending = [b for b in lessons if status_of(b, now) is Status.PENDING]
    if not pending:
        db.session.rollback()
        raise ServiceError(wording.SERIES_NOTHING_PENDING, "nothing_pending", 409)
    pending_ids = {b.id for b in pending}
    if decline_all:
        chosen: set[int] = set()
    elif confirm_ids is None:
        chosen = pending_ids
    else:
        chosen = set(confirm_ids)
        if not chosen <= pending_ids:
            db.session.rollback()
            raise ServiceError(wording.SERIES_NOT_IN_SERIES, "not_in_series", 422, field="booking_ids")
    confirmed = declined = 0
    for booking in pending:
        new = Status.CONFIRMED if booking.id in chosen else Status.DECLINED
        note = "" if new is Status.CONFIRMED else reason
        if set_status(booking, Status.PENDING, new, note, now):
            history(booking, user.id, Status.PENDING, new, note, now)
            announce(booking, f"booking.{new.value}")
            confirmed += new is Status.CONFIRMED
            declined += new is Status.DECLINED
    if not confirmed and not declined:
        db.session.rollback()
        raise ServiceError(wording.SERIES_NOTHING_PENDING, "changed_meanwhile", 409)
    first = next(b for b in pending if b.id in chosen) if confirmed else pending[0]
    text = wording.series_decided(user.name, summary_of(series), confirmed, declined)
    if reason and declined:
        text += f" Reason: {reason}"
    notify(
        series.student_id, "series.confirmed" if confirmed else "series.declined", text, booking_id=first.id
    )
    db.session.commit()
    return outcome_of(series)


def cancel_series(
    user: User, series_id: int, from_on: date | None = None, reason: str = "", now: datetime | None = None
) -> SeriesOutcome:
    """Cancel this and all later lessons of a series from a local date (in the instructor's zone).

    Each lesson follows the single-cancel rules: lessons the cancellation window protects for a student are kept and
    returned in `kept`. Without a date, every lesson that has not started is meant.
    """
    now = now or clock.now()
    reason = (reason or "").strip()[:500]
    series = get_series_for(user, series_id)
    window = get_studio().cancellation_window_hours
    actor = actor_for(user)
    cancelled: list[Booking] = []
    kept: list[Booking] = []
    for booking in lessons_of(series):
        on = utc_to_local(booking.starts_at, series.timezone).date()
        if (from_on is not None and on < from_on) or booking.starts_at <= now:
            continue
        old = status_of(booking, now)
        if old not in rules.ACTIVE_STATUSES:
            continue
        try:
            new = rules.next_status(
                facts(booking), Action.CANCEL, actor, now=now, cancellation_window_hours=window
            )
        except rules.TransitionRefused:
            kept.append(booking)
            continue
        if set_status(booking, old, new, reason, now):
            history(booking, user.id, old, new, reason, now)
            announce(booking, "booking.cancelled")
            cancelled.append(booking)
    if not cancelled:
        db.session.rollback()
        if kept:
            raise ServiceError(rules.cancellation_window_sentence(window), "cancellation_window", 409)
        raise ServiceError(wording.SERIES_NOTHING_TO_CANCEL, "nothing_to_cancel", 409)
    other = series.instructor_id if user.id == series.student_id else series.student_id
    text = wording.series_cancelled(user.name, summary_of(series), len(cancelled), len(kept))
    if reason:
        text += f" Reason: {reason}"
    notify(other, "series.cancelled", text, booking_id=cancelled[0].id)
    if user.id != series.student_id and other != series.instructor_id and user.id != series.instructor_id:
        # The owner cancelled: the instructor hears of it too.
        notify(series.instructor_id, "series.cancelled", text, booking_id=cancelled[0].id)
    db.session.commit()
    return SeriesOutcome(
        series,
        lessons_of(series),
        _stored_skips(series),
        False,
        series.timezone,
        kept=kept,
        cancelled=cancelled,
    )


def renew_series(user: User, series_id: int, weeks: int, now: datetime | None = None) -> SeriesOutcome:
    """Add the next `weeks` weeks at the same local time; staff book them confirmed, the student requests them."""
    now = now or clock.now()
    _weeks_allowed(weeks)
    series = get_series_for(user, series_id)
    by_staff = user.id != series.student_id
    lessons = lessons_of(series)
    if any(status_of(b, now) is Status.PENDING for b in lessons):
        db.session.rollback()
        raise ServiceError(wording.SERIES_ASK_ANSWER, "pending", 409)
    instructor = db.session.get(User, series.instructor_id, options=SCHEDULE_LOADS)
    assert instructor is not None
    schedule = load_schedule(instructor, now)
    # The next weeks after the last one; after a gap (a term break) from the first week still ahead.
    today = utc_to_local(now, series.timezone).date()
    elapsed = max(0, (today - series.first_on).days // 7 + 1)
    starts = week_starts(
        series.first_on, series.start_time, series.timezone, weeks, skip_weeks=max(series.weeks, elapsed)
    )
    with slot_write():
        if expire_overdue_at_once(Booking.instructor_id == series.instructor_id, now):
            db.session.commit()
        lock_pair(series.instructor_id, series.student_id)
        classified = _classify(
            schedule, starts, series.lesson_minutes, series.instructor_id, series.student_id, now, by_staff
        )
        open_weeks = [w for w in classified if w.is_open]
        skipped = [w for w in classified if not w.is_open]
        if not open_weeks:
            raise NothingOpen(wording.SERIES_NOTHING_RENEWED, skipped)
        expires = rules.expires_at(now, open_weeks[0].starts_at, get_studio().pending_expiry_hours)  # type: ignore[arg-type]
        notes = lessons[-1].notes if lessons else ""
        added = _insert_lessons(
            [
                _booking(series.instructor_id, series.student_id, w, notes, now, by_staff, expires, series.id)
                for w in open_weeks
            ],
            user.id,
            wording.SERIES_RENEW_NOTE,
            now,
        )
        last_on = starts[-1][0]
        series.weeks = (last_on - series.first_on).days // 7 + 1
        series.skipped = [*(series.skipped or []), *_skips_json(skipped)]
        db.session.flush()
    for booking in added:
        announce(booking, "booking.confirmed" if by_staff else "booking.requested")
    summary = summary_of(series)
    text = wording.series_renewed(user.name, summary, len(added))
    if by_staff:
        notify(series.student_id, "series.booked", text, booking_id=added[0].id, flush=False)
    else:
        notify(series.instructor_id, "series.requested", text, booking_id=added[0].id, flush=False)
        _schedule_expiry(series, added[0], expires)
    db.session.commit()
    return SeriesOutcome(series, added, skipped, True, series.timezone)


def _schedule_expiry(series: LessonSeries, first: Booking, expires: datetime) -> None:
    """Schedule the one expiry of a batch of pending weeks (its key names the batch's first lesson)."""
    effects.schedule(
        EXPIRE_EFFECT,
        {"series_id": series.id},
        due_at=expires,
        dedupe_key=f"{EXPIRE_EFFECT}:{series.id}:{first.id}",
        flush=False,
    )


def expire_series_effect(payload: dict[str, Any]) -> None:
    """Effect handler: persist the expiry of a series' unanswered requests together (one notification)."""
    expire_overdue(Booking.series_id == int(payload["series_id"]), clock.now())
    db.session.commit()
