"""Database models: typed SQLAlchemy 2.0 mappings with invariants as named constraints."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .domain.bookings import ACTIVE_STATUSES, Role, Status
from .domain.links import LinkPurpose
from .domain.students import COLOURS, NOTE_FIELDS
from .extensions import db


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp column that refuses naive datetimes and always reads back aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused: {value!r}; pass an aware UTC instant")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite drops offsets; store UTC wall time and re-attach UTC on read.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current instant, aware UTC (the only clock read outside tests)."""
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def vocabulary(kind: type[enum.StrEnum], check_name: str) -> sa.Enum:
    """Return a column type storing a domain enum by its values ("pending"), guarded by a named CHECK."""
    return sa.Enum(
        kind,
        native_enum=False,
        create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        length=20,
        name=check_name,
    )


# The statuses that hold a slot, as the overlap guards (SQLite trigger, PostgreSQL exclusion) spell them.
_HOLDING = _in("status", tuple(s.value for s in Status if s in ACTIVE_STATUSES))


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(vocabulary(Role, "role_valid"), default=Role.STUDENT)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Mail kinds this user switched off (see services/mail.py EMAIL_KINDS); absent means on.
    email_opt_out: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    # Secret of the private calendar feed URL; None until the user turns the feed on.
    feed_token: Mapped[str | None] = mapped_column(sa.String(64), index=True, unique=True)
    # Set when the person deleted their account: the row stays (bookings keep their integrity), erased.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    instructor_settings: Mapped[InstructorSettings | None] = relationship(
        back_populates="user", uselist=False, lazy="select"
    )
    # The version of everything this person's open slots depend on (kept by database triggers).
    schedule_stamp: Mapped[ScheduleVersion | None] = relationship(
        primaryjoin="foreign(ScheduleVersion.instructor_id) == User.id", uselist=False, viewonly=True, lazy="select"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in for deactivated accounts
        return self.active

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def teaches(self) -> bool:
        return self.role in (Role.OWNER, Role.INSTRUCTOR)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def initials(self) -> str:
        parts = [p for p in self.name.split() if p]
        return ("".join(p[0] for p in parts[:2]) or self.email[0]).upper()


class InstructorSettings(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "instructor_settings"
    __table_args__ = (
        sa.CheckConstraint("default_lesson_minutes BETWEEN 5 AND 480", name="lesson_minutes_range"),
        sa.CheckConstraint("buffer_minutes BETWEEN 0 AND 240", name="buffer_range"),
        sa.CheckConstraint("min_notice_minutes BETWEEN 0 AND 20160", name="notice_range"),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    default_lesson_minutes: Mapped[int] = mapped_column(default=60)
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    min_notice_minutes: Mapped[int] = mapped_column(default=120)
    bio: Mapped[str] = mapped_column(sa.String(500), default="")

    user: Mapped[User] = relationship(back_populates="instructor_settings")


class ScheduleVersion(db.Model):  # type: ignore[name-defined,misc]
    """Counters per instructor that the database bumps in the same transaction as any change to their slots.

    Triggers on weekly_windows, one_time_windows, blocks, instructor_settings and users (timezone, role, active) bump
    `version` (the rules); triggers on bookings bump `busy_version` (the times held). A cache keyed by a counter can
    never be read after its change committed. The token is random per row: a row created again (an emptied table)
    never repeats an old key.
    """

    __tablename__ = "schedule_versions"

    instructor_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger)
    busy_version: Mapped[int] = mapped_column(sa.BigInteger)
    token: Mapped[str] = mapped_column(sa.String(16))


class StudioSettings(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "studio_settings"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint(_in("horizon", ("end_of_month", "end_of_next_month", "days")), name="horizon_valid"),
        sa.CheckConstraint("horizon_days IS NULL OR horizon_days BETWEEN 1 AND 365", name="horizon_days_range"),
        sa.CheckConstraint("pending_expiry_hours BETWEEN 1 AND 168", name="expiry_range"),
        sa.CheckConstraint("cancellation_window_hours BETWEEN 0 AND 336", name="cancellation_range"),
        sa.CheckConstraint("series_max_weeks BETWEEN 0 AND 52", name="series_max_weeks_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str] = mapped_column(sa.String(120), default="The Studio")
    horizon: Mapped[str] = mapped_column(sa.String(20), default="end_of_month")
    horizon_days: Mapped[int | None] = mapped_column(default=None)
    pending_expiry_hours: Mapped[int] = mapped_column(default=4)
    cancellation_window_hours: Mapped[int] = mapped_column(default=24)
    # The most weeks a standing weekly lesson (series) may run; 0 turns series off.
    series_max_weeks: Mapped[int] = mapped_column(default=12, server_default="12")


class WeeklyWindow(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "weekly_windows"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday_iso"),
        sa.CheckConstraint("end_time > start_time", name="ends_after_start"),
        sa.CheckConstraint("lesson_minutes BETWEEN 5 AND 480", name="lesson_minutes_range"),
        sa.CheckConstraint(
            "effective_until IS NULL OR effective_from IS NULL OR effective_until >= effective_from",
            name="effective_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    start_time: Mapped[time] = mapped_column(sa.Time)
    end_time: Mapped[time] = mapped_column(sa.Time)
    lesson_minutes: Mapped[int]
    effective_from: Mapped[date | None] = mapped_column(sa.Date)
    effective_until: Mapped[date | None] = mapped_column(sa.Date)


class OneTimeWindow(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "one_time_windows"
    __table_args__ = (
        sa.CheckConstraint("end_time > start_time", name="ends_after_start"),
        sa.CheckConstraint("lesson_minutes BETWEEN 5 AND 480", name="lesson_minutes_range"),
        sa.Index("ix_one_time_windows_instructor_date", "instructor_id", "occurs_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    occurs_on: Mapped[date] = mapped_column(sa.Date)
    start_time: Mapped[time] = mapped_column(sa.Time)
    end_time: Mapped[time] = mapped_column(sa.Time)
    lesson_minutes: Mapped[int]


class Block(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "blocks"
    __table_args__ = (
        sa.CheckConstraint("end_on >= start_on", name="dates_ordered"),
        sa.CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) OR "
            "(start_time IS NOT NULL AND end_time IS NOT NULL AND end_time > start_time)",
            name="times_paired",
        ),
        sa.Index("ix_blocks_instructor_dates", "instructor_id", "start_on", "end_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    start_on: Mapped[date] = mapped_column(sa.Date)
    end_on: Mapped[date] = mapped_column(sa.Date)
    start_time: Mapped[time | None] = mapped_column(sa.Time)
    end_time: Mapped[time | None] = mapped_column(sa.Time)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")


class Booking(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "bookings"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("instructor_id <> student_id", name="not_self"),
        sa.Index("ix_bookings_instructor_starts", "instructor_id", "starts_at"),
        sa.Index("ix_bookings_student_starts", "student_id", "starts_at"),
        sa.Index("ix_bookings_status_expires", "status", "expires_at"),
        sa.Index("ix_bookings_starts", "starts_at"),  # the owner's overview lists every instructor by start
        postgresql.ExcludeConstraint(
            ("instructor_id", "="),
            (sa.func.tstzrange(sa.column("starts_at"), sa.column("ends_at")), "&&"),
            where=sa.text(_HOLDING),
            using="gist",
            name="ex_bookings_no_overlap",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[Status] = mapped_column(vocabulary(Status, "status_valid"), default=Status.PENDING)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    reschedule_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id"))
    # Lesson notes, written once the lesson started (services/lesson_notes.py): the summary the student sees,
    # and a note only staff see (never in anything a student receives).
    lesson_summary: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    private_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # The standing weekly lesson this booking is one week of (None: a single lesson).
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lesson_series.id"), index=True)

    instructor: Mapped[User] = relationship(foreign_keys=[instructor_id], lazy="joined", innerjoin=True)
    student: Mapped[User] = relationship(foreign_keys=[student_id], lazy="joined", innerjoin=True)
    history: Mapped[list[BookingChange]] = relationship(
        back_populates="booking", order_by="BookingChange.id", cascade="all, delete-orphan"
    )

    @property
    def lesson_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class LessonSeries(db.Model):  # type: ignore[name-defined,misc]
    """A standing weekly lesson: the same local weekday and wall-clock time in the instructor's zone for N weeks.

    Each week is its own booking row (bookings.series_id), so the overlap guard holds for every one.
    """

    __tablename__ = "lesson_series"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday_iso"),
        sa.CheckConstraint("lesson_minutes BETWEEN 5 AND 480", name="lesson_minutes_range"),
        sa.CheckConstraint("weeks >= 1", name="weeks_positive"),
        sa.CheckConstraint("instructor_id <> student_id", name="not_self"),
        sa.Index("ix_lesson_series_request_key", "request_key"),
        sa.Index("ix_lesson_series_student_id", "student_id"),
        sa.Index("ix_lesson_series_instructor_id", "instructor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    timezone: Mapped[str] = mapped_column(sa.String(64))  # the instructor's zone the wall-clock time is in
    weekday: Mapped[int]  # ISO 1 = Monday … 7 = Sunday, local
    start_time: Mapped[time] = mapped_column(sa.Time)  # local wall-clock start
    first_on: Mapped[date] = mapped_column(sa.Date)  # the local date of the first week
    lesson_minutes: Mapped[int]
    weeks: Mapped[int]  # weeks asked for (renewals add to it)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who, with whom, from when, how long and how many weeks: a repeated request finds its live series by it.
    request_key: Mapped[str] = mapped_column(sa.String(64))
    # The weeks that were not open when asked for: [{"date": "YYYY-MM-DD", "reason": "blocked"}, ...].
    skipped: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)

    instructor: Mapped[User] = relationship(foreign_keys=[instructor_id], lazy="joined", innerjoin=True)
    student: Mapped[User] = relationship(foreign_keys=[student_id], lazy="joined", innerjoin=True)


class BookingChange(db.Model):  # type: ignore[name-defined,misc]
    """One row of a booking's history: who changed what, when."""

    __tablename__ = "booking_changes"
    __table_args__ = (sa.Index("ix_booking_changes_at", "at"),)  # the owner's audit log reads newest first

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_status: Mapped[Status | None] = mapped_column(vocabulary(Status, "from_status_valid"))
    to_status: Mapped[Status] = mapped_column(vocabulary(Status, "to_status_valid"))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship(lazy="joined")


class Message(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "messages"
    __table_args__ = (
        sa.CheckConstraint("length(body) BETWEEN 1 AND 2000", name="body_length"),
        sa.Index("ix_messages_booking_id_id", "booking_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sender: Mapped[User] = relationship(lazy="joined")


class MessageRead(db.Model):  # type: ignore[name-defined,misc]
    """How far a user has read a booking's thread."""

    __tablename__ = "message_reads"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    last_read_message_id: Mapped[int] = mapped_column(default=0)
    dismissed_message_id: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    text: Mapped[str] = mapped_column(sa.String(500))
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None: valid until revoked.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class UserSession(db.Model):  # type: ignore[name-defined,misc]
    """A signed-in browser: the cookie carries its secret, so ending the row signs that browser out."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccessLink(db.Model):  # type: ignore[name-defined,misc]
    """A link sent to a person (password reset, address change, invitation, personal booking page).

    Only the secret's hash is stored; a link is good until it expires, is used (when single-use) or is revoked.
    """

    __tablename__ = "access_links"
    __table_args__ = (sa.Index("ix_access_links_purpose_email", "purpose", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[LinkPurpose] = mapped_column(vocabulary(LinkPurpose, "link_purpose_valid"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Whom the link is for: an account, or an address that has none yet (an invitation).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="select")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id], lazy="select")


class Effect(db.Model):  # type: ignore[name-defined,misc]
    """Work that must not be lost (mail, expiry, auto-decline), written with the change that causes it."""

    __tablename__ = "effects"
    __table_args__ = (
        sa.Index("ix_effects_due", "done_at", "due_at"),
        sa.UniqueConstraint("dedupe_key", name="uq_effects_dedupe_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    # Set just before a step that cannot be taken back (handing a mail to the SMTP server): a later attempt
    # after a crash skips that step rather than doing it twice.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(db.Model):  # type: ignore[name-defined,misc]
    """One line of the studio's audit log: who did what to whom (services/audit.py names the actions)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        sa.Index("ix_audit_entries_at", "at"),
        sa.Index("ix_audit_entries_actor_id", "actor_id"),
        sa.Index("ix_audit_entries_subject_user_id", "subject_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: the system acted.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    subject_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="select")
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_user_id], lazy="select")


class StudentNote(db.Model):  # type: ignore[name-defined,misc]
    """What an instructor keeps about one of their students: a private note and the colour of their lessons."""

    __tablename__ = "student_notes"
    __table_args__ = (
        sa.CheckConstraint(f"colour IS NULL OR {_in('colour', tuple(COLOURS))}", name="colour_in_palette"),
        sa.CheckConstraint("length(note) <= 2000", name="note_length"),
        sa.Index("ix_student_notes_student_id", "student_id"),
    )

    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    colour: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LessonNoteChange(db.Model):  # type: ignore[name-defined,misc]
    """One change of a booking's lesson notes: which note, its new text, who wrote it and when.

    Kept apart from BookingChange so that a private note's history can never reach a student through the
    booking's history.
    """

    __tablename__ = "lesson_note_changes"
    __table_args__ = (sa.CheckConstraint(_in("field", NOTE_FIELDS), name="field_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    field: Mapped[str] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")
