"""The demo studio: an owner, three instructors in three timezones, six students, bookings and threads."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..extensions import db
from ..models import Block, Booking, BookingChange, Message, OneTimeWindow, User, WeeklyWindow, utcnow
from .studio import get_studio
from .users import create_user, find_user_by_email

DEMO_PASSWORD = "demo-pass-2026"

INSTRUCTORS = [
    # email, name, timezone, weekly windows (weekday, start, end, minutes)
    ("maria@demo.studio", "Maria Alvarez", "America/New_York",
     [(2, "14:00", "18:00", 60), (4, "10:00", "14:00", 60), (6, "09:00", "12:00", 45)]),
    ("james@demo.studio", "James Okafor", "Europe/London",
     [(1, "09:00", "13:00", 60), (3, "15:00", "20:00", 30), (5, "10:00", "16:00", 60)]),
    ("aiko@demo.studio", "Aiko Tanaka", "Australia/Sydney",
     [(1, "16:00", "20:00", 45), (2, "16:00", "20:00", 45), (7, "10:00", "14:00", 90)]),
]
STUDENTS = [
    ("sam@demo.studio", "Sam Lee", "America/Chicago"),
    ("priya@demo.studio", "Priya Natarajan", "Europe/London"),
    ("lucas@demo.studio", "Lucas Meyer", "Europe/Berlin"),
    ("chloe@demo.studio", "Chloé Martin", "America/New_York"),
    ("ben@demo.studio", "Ben Carter", "Australia/Sydney"),
    ("noor@demo.studio", "Noor Haddad", "Asia/Dubai"),
]


def _user(email: str, name: str, role: str, tz: str) -> User:
    return find_user_by_email(email) or create_user(email=email, name=name, password=DEMO_PASSWORD, role=role, timezone=tz)


def _next_weekday(today: date, weekday: int, weeks_ahead: int = 0) -> date:
    return today + timedelta(days=(weekday - today.isoweekday()) % 7 + 7 * weeks_ahead)


def _at(day: date, hhmm: str, tz: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), ZoneInfo(tz)).astimezone(UTC)


def seed_demo(now: datetime | None = None) -> str:
    """Create whatever part of the demo studio is missing; return a one-line summary."""
    now = now or utcnow()
    studio = get_studio()
    studio.name = "Riverside Dance & Music"
    db.session.commit()
    _user("owner@demo.studio", "Olivia Grant", "owner", "Europe/London")
    students = [_user(e, n, "student", tz) for e, n, tz in STUDENTS]
    created = 0
    for index, (email, name, tz, weekly) in enumerate(INSTRUCTORS):
        teacher = _user(email, name, "instructor", tz)
        if db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(Booking.instructor_id == teacher.id)):
            continue
        settings = teacher.instructor_settings
        assert settings is not None
        settings.timezone = tz
        settings.default_lesson_minutes = weekly[0][3]
        settings.min_notice_minutes = 120
        local_today = now.astimezone(ZoneInfo(tz)).date()
        for weekday, start, end, minutes in weekly:
            db.session.add(WeeklyWindow(
                instructor_id=teacher.id, weekday=weekday, start_time=time.fromisoformat(start),
                end_time=time.fromisoformat(end), lesson_minutes=minutes, effective_from=local_today - timedelta(days=30),
            ))
        extra_day = _next_weekday(local_today, 6, 1)
        db.session.add(OneTimeWindow(instructor_id=teacher.id, occurs_on=extra_day, start_time=time(13, 0),
                                     end_time=time(16, 0), lesson_minutes=60))
        vacation_start = _next_weekday(local_today, 1, 3)
        db.session.add(Block(instructor_id=teacher.id, start_on=vacation_start, end_on=vacation_start + timedelta(days=4),
                             reason="Vacation"))
        _demo_bookings(teacher, tz, weekly, students[index * 2: index * 2 + 2] + students[:1], local_today, now)
        created += 1
    db.session.commit()
    return f"Demo studio ready ({created} instructor calendars seeded). Password for every demo account: {DEMO_PASSWORD}"


def _demo_bookings(teacher: User, tz: str, weekly: list[tuple[int, str, str, int]], students: list[User],
                   today: date, now: datetime) -> None:
    weekday, start, _end, minutes = weekly[0]
    second_weekday, second_start, _e2, second_minutes = weekly[1]
    plan = [
        # (day, start, minutes, status, student, note, created ago)
        (_next_weekday(today, weekday, 1), start, minutes, "pending", students[0], "Could we work on turns?", timedelta(hours=1)),
        (_next_weekday(today, second_weekday, 1), second_start, second_minutes, "confirmed", students[1], "", timedelta(days=2)),
        (_next_weekday(today, weekday, 2), start, minutes, "confirmed", students[2], "First lesson!", timedelta(days=1)),
        (_next_weekday(today, second_weekday, 2), second_start, second_minutes, "declined", students[0], "", timedelta(days=1)),
        (_next_weekday(today, weekday, 1) - timedelta(days=14), start, minutes, "completed", students[1], "", timedelta(days=20)),
        (_next_weekday(today, second_weekday, 1) - timedelta(days=14), second_start, second_minutes, "no_show", students[2], "", timedelta(days=20)),
        (_next_weekday(today, weekday, 1) - timedelta(days=7), start, minutes, "cancelled", students[0], "", timedelta(days=10)),
        (_next_weekday(today, second_weekday, 3), second_start, second_minutes, "expired", students[1], "", timedelta(days=2)),
    ]
    for day, hhmm, length, status, student, note, ago in plan:
        starts_at = _at(day, hhmm, tz)
        created_at = min(now - ago, starts_at - timedelta(hours=5))
        booking = Booking(
            instructor_id=teacher.id, student_id=student.id, starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=length), status=status, notes=note, created_at=created_at,
            expires_at=min(created_at + timedelta(hours=4), starts_at) if status != "pending" else now + timedelta(hours=3),
            decided_at=None if status == "pending" else created_at + timedelta(hours=1),
            status_reason="That week is full, sorry!" if status == "declined" else "",
        )
        db.session.add(booking)
        db.session.flush()
        db.session.add(BookingChange(booking_id=booking.id, actor_id=student.id, from_status=None, to_status="pending", at=created_at))
        if status != "pending":
            actor = None if status in ("expired", "completed") else (student.id if status == "cancelled" else teacher.id)
            if status in ("completed", "no_show"):
                db.session.add(BookingChange(booking_id=booking.id, actor_id=teacher.id, from_status="pending", to_status="confirmed", at=created_at + timedelta(hours=1)))
            db.session.add(BookingChange(booking_id=booking.id, actor_id=actor,
                                         from_status="confirmed" if status in ("completed", "no_show") else "pending",
                                         to_status=status, at=created_at + timedelta(hours=1)))
        if status in ("pending", "confirmed"):
            db.session.add(Message(booking_id=booking.id, sender_id=student.id, body=note or "Looking forward to it!", created_at=created_at + timedelta(minutes=5)))
            if status == "confirmed":
                db.session.add(Message(booking_id=booking.id, sender_id=teacher.id, body="Great — see you then. Bring comfortable shoes.", created_at=created_at + timedelta(hours=2)))
