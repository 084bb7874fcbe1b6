"""Read-side queries for the dashboards: each dashboard in a fixed, small number of queries."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import redis
import sqlalchemy as sa

from .. import wording
from ..domain import bookings as rules
from ..domain.bookings import Role, Status
from ..extensions import db
from ..models import Booking, BookingChange, User
from . import clock
from .booking_filters import active_ahead, open_request, status_filter, status_in
from .bookings import actor_for, facts
from .header import header_state
from .paging import Page
from .studio import get_studio

PAGE_SIZE = 25
AWAITING_LIMIT = 50
UPCOMING_SIZE = 20
STUDIO_PAGE_SIZE = 50
CSV_LIMIT = 100_000

INSTRUCTOR_TABS = ("past", "closed")
STUDENT_TABS = ("upcoming", "history")
CLOSED_STATUSES = (Status.DECLINED, Status.CANCELLED, Status.EXPIRED)
PAST_STATUSES = (Status.COMPLETED, Status.NO_SHOW)


@dataclass(frozen=True)
class Row:
    """One booking as a dashboard shows it: the status every read shows, unread messages, and what may be done."""

    booking: Booking
    status: str
    unread: int = 0
    can_cancel: bool = False
    refusal: str | None = None


@dataclass(frozen=True)
class InstructorDashboard:
    awaiting: list[Row]
    upcoming: Page[Row]
    tab: str
    tab_page: Page[Row]
    counts: dict[str, int]
    as_student: bool = False  # whether the person also booked lessons as a student


@dataclass(frozen=True)
class StudentDashboard:
    upcoming: Page[Row]
    tab: str
    tab_page: Page[Row]
    counts: dict[str, int]


@dataclass(frozen=True)
class StudioFilters:
    """The owner overview's filters: instructor, effective status, and a UTC range of lesson starts."""

    instructor_id: int | None = None
    status: str | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None


@dataclass
class InstructorFigures:
    """Per-instructor figures for a range of lesson starts."""

    instructor: User
    requests: int = 0
    confirmed: int = 0
    answered: int = 0
    cancellations: int = 0
    minutes_taught: int = 0
    median_decide_seconds: float | None = None

    @property
    def confirmation_rate(self) -> float | None:
        return self.confirmed / self.answered if self.answered else None

    @property
    def hours_taught(self) -> float:
        return self.minutes_taught / 60


# --- shared pieces -------------------------------------------------------------------------------


def _rows(query: sa.Select[Any], unread: dict[int, int], now: datetime, viewer: User | None = None) -> list[Row]:
    return _to_rows(db.session.scalars(query).unique().all(), unread, now, viewer)


def _to_rows(bookings: Sequence[Booking], unread: dict[int, int], now: datetime, viewer: User | None = None) -> list[Row]:
    out = []
    window = get_studio().cancellation_window_hours if viewer is not None else 0
    for booking in bookings:
        status = rules.effective_status(Status(booking.status), booking.expires_at, booking.ends_at, now)
        can_cancel, refusal = False, None
        if viewer is not None and status in rules.ACTIVE_STATUSES:
            refusal = rules.cancel_refusal_reason(
                facts(booking), actor_for(viewer), now=now, cancellation_window_hours=window
            )
            can_cancel = refusal is None
        out.append(Row(booking, status.value, unread.get(booking.id, 0), can_cancel, refusal))
    return out


def _page_number(page: int | None) -> int:
    return max(1, page or 1)


# --- instructor ----------------------------------------------------------------------------------


def _instructor_bucket(now: datetime) -> sa.ColumnElement[str]:
    return sa.case(
        (open_request(now), sa.literal("awaiting")),
        (_confirmed_ahead(now), sa.literal("upcoming")),
        (sa.or_(status_in(PAST_STATUSES, now), Booking.status == Status.CONFIRMED.value), sa.literal("past")),
        else_=sa.literal("closed"),
    )


def _instructor_tab_where(tab: str, now: datetime) -> sa.ColumnElement[bool]:
    if tab == "past":
        return sa.or_(status_in(PAST_STATUSES, now), sa.and_(Booking.status == Status.CONFIRMED.value, Booking.ends_at <= now))
    return status_in(CLOSED_STATUSES, now)


def _confirmed_ahead(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Booking.status == Status.CONFIRMED.value, Booking.ends_at > now)


@dataclass(frozen=True)
class Part:
    """One list a dashboard shows: which rows, in which order, how many (its offset is the parameter offset_<n>)."""

    where: sa.ColumnElement[bool]
    order_by: tuple[Any, ...]
    limit: int


# The dashboards' statements are built once per shape, with the viewer, the instant and the offsets as parameters:
# building SQLAlchemy expressions costs more than running the queries on a small studio.
NOW = cast(datetime, sa.bindparam("now", type_=Booking.__table__.c.expires_at.type))
VIEWER = sa.bindparam("viewer", type_=sa.Integer)
_BUILT: dict[tuple[str, ...], tuple[sa.Select[Any], sa.Select[Any]]] = {}


def _built(shape: tuple[str, ...], build: Callable[[], tuple[sa.Select[Any], sa.Select[Any]]]):  # type: ignore[no-untyped-def]
    if shape not in _BUILT:
        _BUILT[shape] = build()
    return _BUILT[shape]


def _parts_statement(parts: list[Part]) -> sa.Select[Any]:
    """Return one statement for the rows of several lists (UNION ALL of each list's page of ids)."""
    pages = []
    for index, part in enumerate(parts):
        ids = (
            sa.select(Booking.id.label("id"), sa.func.row_number().over(order_by=part.order_by).label("pos"))
            .where(part.where).order_by(*part.order_by).limit(part.limit)
            .offset(sa.bindparam(f"offset_{index}", type_=sa.BigInteger)).subquery()
        )
        pages.append(sa.select(ids.c.id, sa.literal(index).label("part"), ids.c.pos))
    chosen = sa.union_all(*pages).subquery()
    return sa.select(Booking, chosen.c.part, chosen.c.pos).join(chosen, chosen.c.id == Booking.id)


def _parts(statement: sa.Select[Any], lists: int, params: dict[str, Any], unread: dict[int, int], now: datetime,
           viewer: User | None = None) -> list[list[Row]]:
    """Return the rows of each list of a _parts_statement, each list in order."""
    found: list[list[tuple[int, Booking]]] = [[] for _ in range(lists)]
    for booking, index, pos in db.session.execute(statement, params):
        found[int(index)].append((int(pos), booking))
    return [_to_rows([b for _, b in sorted(rows, key=lambda r: r[0])], unread, now, viewer) for rows in found]


def _instructor_statements(tab: str) -> tuple[sa.Select[Any], sa.Select[Any]]:
    mine = Booking.instructor_id == VIEWER
    bucket = sa.case((Booking.instructor_id != VIEWER, sa.literal("as_student")),
                     else_=_instructor_bucket(NOW)).label("bucket")
    counts = sa.select(bucket, sa.func.count()).where(sa.or_(mine, Booking.student_id == VIEWER)).group_by(bucket)
    lists = _parts_statement([
        Part(sa.and_(mine, open_request(NOW)), (Booking.created_at, Booking.id), AWAITING_LIMIT),
        Part(sa.and_(mine, _confirmed_ahead(NOW)), (Booking.starts_at, Booking.id), UPCOMING_SIZE),
        Part(sa.and_(mine, _instructor_tab_where(tab, NOW)), (Booking.starts_at.desc(), Booking.id.desc()), PAGE_SIZE),
    ])
    return counts, lists


def instructor_dashboard(
    user: User, *, tab: str = "past", page: int | None = 1, upcoming_page: int | None = 1, now: datetime | None = None
) -> InstructorDashboard:
    """Return requests to answer (oldest first), a page of upcoming lessons, a page of a tab and the count per tab.

    Two queries: the count per tab (and whether the person booked lessons as a student), then the three lists.
    """
    now = now or clock.now()
    tab = tab if tab in INSTRUCTOR_TABS else "past"
    number = _page_number(page)
    ahead = _page_number(upcoming_page)
    count_rows, lists = _built(("instructor", tab), lambda: _instructor_statements(tab))
    params = {"viewer": user.id, "now": now}
    counts = {name: 0 for name in ("awaiting", "upcoming", "past", "closed", "as_student")}
    for name, n in db.session.execute(count_rows, params):
        counts[str(name)] = int(n)
    as_student = counts.pop("as_student") > 0
    unread = header_state(user).unread
    awaiting, upcoming, tab_rows = _parts(
        lists, 3, {**params, "offset_0": 0, "offset_1": (ahead - 1) * UPCOMING_SIZE,
                   "offset_2": (number - 1) * PAGE_SIZE}, unread, now)
    return InstructorDashboard(
        awaiting=awaiting, upcoming=Page(upcoming, ahead, counts["upcoming"], UPCOMING_SIZE), tab=tab,
        tab_page=Page(tab_rows, number, counts[tab], PAGE_SIZE), counts=counts, as_student=as_student,
    )


# --- student -------------------------------------------------------------------------------------


def _student_statements() -> tuple[sa.Select[Any], sa.Select[Any]]:
    mine = Booking.student_id == VIEWER
    active = active_ahead(NOW)
    bucket = sa.case((active, sa.literal("upcoming")), else_=sa.literal("history")).label("bucket")
    counts = sa.select(bucket, sa.func.count()).where(mine).group_by(bucket)
    lists = _parts_statement([
        Part(sa.and_(mine, active), (Booking.starts_at, Booking.id), UPCOMING_SIZE),
        Part(sa.and_(mine, sa.not_(active)), (Booking.starts_at.desc(), Booking.id.desc()), PAGE_SIZE),
    ])
    return counts, lists


def student_dashboard(
    user: User, *, page: int | None = 1, upcoming_page: int | None = 1, now: datetime | None = None
) -> StudentDashboard:
    """Return a page of the student's coming appointments (soonest first) and a page of the rest (newest first)."""
    now = now or clock.now()
    number = _page_number(page)
    ahead = _page_number(upcoming_page)
    count_rows, lists = _built(("student",), _student_statements)
    params = {"viewer": user.id, "now": now}
    counts = {"upcoming": 0, "history": 0}
    for name, n in db.session.execute(count_rows, params):
        counts[str(name)] = int(n)
    unread = header_state(user).unread
    upcoming, history = _parts(
        lists, 2, {**params, "offset_0": (ahead - 1) * UPCOMING_SIZE, "offset_1": (number - 1) * PAGE_SIZE},
        unread, now, viewer=user)
    return StudentDashboard(
        upcoming=Page(upcoming, ahead, counts["upcoming"], UPCOMING_SIZE), tab="history", tab_page=Page(history, number, counts["history"], PAGE_SIZE), counts=counts,
    )


def has_student_bookings(user: User) -> bool:
    """Return whether this user ever booked a lesson as a student (instructors may book each other)."""
    return db.session.scalar(sa.select(Booking.id).where(Booking.student_id == user.id).limit(1)) is not None


# --- owner ---------------------------------------------------------------------------------------


def instructors() -> list[User]:
    """Return everyone who teaches (active or not, since past bookings stay theirs), by name."""
    return list(
        db.session.scalars(
            sa.select(User).where(User.role.in_([Role.INSTRUCTOR.value, Role.OWNER.value])).order_by(User.name, User.id)
        )
    )


def _studio_where(filters: StudioFilters, now: datetime) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if filters.instructor_id is not None:
        where.append(Booking.instructor_id == filters.instructor_id)
    if filters.status:
        # One definition of "effective status" in SQL: the booking service's; an unknown word matches nothing.
        known = filters.status in {s.value for s in Status}
        where.append(status_filter(Status(filters.status), now) if known else sa.false())
    if filters.starts_from is not None:
        where.append(Booking.starts_at >= filters.starts_from)
    if filters.starts_before is not None:
        where.append(Booking.starts_at < filters.starts_before)
    return where


def studio_bookings(filters: StudioFilters, *, page: int | None = 1, now: datetime | None = None) -> Page[Row]:
    """Return one page of every instructor's bookings matching the filters, newest lesson first."""
    now = now or clock.now()
    number = _page_number(page)
    where = _studio_where(filters, now)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(*where)) or 0
    rows = _rows(
        sa.select(Booking).where(*where).order_by(Booking.starts_at.desc(), Booking.id.desc())
        .limit(STUDIO_PAGE_SIZE).offset((number - 1) * STUDIO_PAGE_SIZE),
        {}, now,
    )
    return Page(rows, number, int(total), STUDIO_PAGE_SIZE)


def studio_count(filters: StudioFilters, now: datetime | None = None) -> int:
    """Return how many bookings match the filters."""
    where = _studio_where(filters, now or clock.now())
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(*where)) or 0)


def studio_export(filters: StudioFilters, now: datetime | None = None) -> Iterator[tuple[Booking, str]]:
    """Yield every booking matching the filters with its effective status, oldest lesson first."""
    now = now or clock.now()
    query = (
        sa.select(Booking).where(*_studio_where(filters, now))
        .order_by(Booking.starts_at, Booking.id).limit(CSV_LIMIT)
    )
    for booking in db.session.scalars(query).unique():
        yield booking, rules.effective_status(Status(booking.status), booking.expires_at, booking.ends_at, now).value


def _seconds_between(start: Any, end: Any, dialect: str) -> sa.ColumnElement[Any]:
    """Seconds from one timestamp column to another, computed by the database (no datetime objects in Python)."""
    if dialect == "postgresql":
        return sa.func.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400


FIGURES_CACHE_SECONDS = 60
_FIGURE_FIELDS = ("requests", "confirmed", "answered", "cancellations", "minutes_taught", "median_decide_seconds")


def cached_studio_figures(
    starts_from: datetime, starts_before: datetime, staff: list[User], now: datetime | None = None
) -> tuple[list[InstructorFigures], bool]:
    """Return the figures for the range from a one-minute Redis cache (computing them on a miss) and whether cached.

    Figures aggregate a month of every instructor's bookings; a minute's staleness is fine for them, while the
    bookings list on the same page stays exact. Without Redis they are computed every time.
    """
    from flask import current_app

    ttl = int(current_app.config.get("FIGURES_CACHE_SECONDS", FIGURES_CACHE_SECONDS))
    key = f"dashboards:figures:{int(starts_from.timestamp())}:{int(starts_before.timestamp())}"
    client = current_app.extensions.get("redis")
    if ttl > 0 and client is not None:
        try:
            raw = client.get(key)
        except redis.RedisError:  # a Redis outage must not break the page
            raw = None
        if raw:
            stored = {entry["id"]: entry for entry in json.loads(raw)}
            return [
                InstructorFigures(person, **{k: stored[person.id][k] for k in _FIGURE_FIELDS})
                if person.id in stored else InstructorFigures(person)
                for person in staff
            ], True
    figures = studio_figures(starts_from, starts_before, staff, now)
    if ttl > 0 and client is not None:
        payload = [{"id": f.instructor.id, **{k: getattr(f, k) for k in _FIGURE_FIELDS}} for f in figures]
        with contextlib.suppress(redis.RedisError):
            client.set(key, json.dumps(payload), ex=ttl)
    return figures, False


def studio_figures(
    starts_from: datetime, starts_before: datetime, staff: list[User], now: datetime | None = None
) -> list[InstructorFigures]:
    """Return each instructor's figures for lessons starting in the range, in three queries.

    Requests count every booking in the range; the confirmation rate is confirmed / answered, where answered
    means confirmed, declined or expired; the time to decide runs from the request to the first confirm or
    decline; hours taught count completed lessons and confirmed ones that have ended.
    """
    now = now or clock.now()
    figures = {person.id: InstructorFigures(person) for person in staff}
    in_range = sa.and_(Booking.starts_at >= starts_from, Booking.starts_at < starts_before)
    taught = sa.or_(Booking.status == "completed", sa.and_(Booking.status == "confirmed", Booking.ends_at <= now))
    dialect = db.session.get_bind().dialect.name
    minutes = _seconds_between(Booking.starts_at, Booking.ends_at, dialect) / 60
    grouped = db.session.execute(
        sa.select(
            Booking.instructor_id,
            sa.func.count(),
            sa.func.sum(sa.case((Booking.status == "cancelled", 1), else_=0)),
            sa.func.sum(sa.case((taught, minutes), else_=0)),
        ).where(in_range).group_by(Booking.instructor_id)
    )
    for instructor_id, requests, cancellations, taught_minutes in grouped:
        if instructor_id in figures:
            item = figures[instructor_id]
            item.requests, item.cancellations = int(requests), int(cancellations or 0)
            item.minutes_taught = round(float(taught_minutes or 0))
    decided = (
        sa.select(Booking.instructor_id.label("instructor_id"), BookingChange.to_status.label("to_status"),
                  _seconds_between(Booking.created_at, BookingChange.at, dialect).label("seconds"))
        .join(Booking, Booking.id == BookingChange.booking_id)
        .where(in_range, BookingChange.from_status == "pending",
               BookingChange.to_status.in_(("confirmed", "declined", "expired")))
        .subquery()
    )
    answers = db.session.execute(
        sa.select(decided.c.instructor_id, sa.func.count(),
                  sa.func.sum(sa.case((decided.c.to_status == "confirmed", 1), else_=0)))
        .group_by(decided.c.instructor_id)
    )
    for instructor_id, answered, confirmed in answers:
        if instructor_id in figures:
            figures[instructor_id].answered, figures[instructor_id].confirmed = int(answered), int(confirmed or 0)
    # The median in SQL (both databases have window functions): the middle row, or the mean of the middle two.
    ranked = (
        sa.select(
            decided.c.instructor_id, decided.c.seconds,
            sa.func.row_number().over(partition_by=decided.c.instructor_id, order_by=decided.c.seconds).label("rn"),
            sa.func.count().over(partition_by=decided.c.instructor_id).label("n"),
        )
        .where(decided.c.to_status != "expired")
        .subquery()
    )
    medians = db.session.execute(
        sa.select(ranked.c.instructor_id, sa.func.avg(ranked.c.seconds))
        .where(2 * ranked.c.rn >= ranked.c.n, 2 * ranked.c.rn <= ranked.c.n + 2)
        .group_by(ranked.c.instructor_id)
    )
    for instructor_id, median in medians:
        if instructor_id in figures and median is not None:
            figures[instructor_id].median_decide_seconds = max(0.0, float(round(float(median))))
    return list(figures.values())


# --- wording -------------------------------------------------------------------------------------



def time_left(expires_at: datetime, now: datetime | None = None) -> str:
    """Say how long a request has before it expires: "expires in 3 h 12 min"."""
    left = (expires_at - (now or clock.now())).total_seconds()
    if left <= 0:
        return "expired"
    return f"expires in {wording.duration_words(left)}"


def overdue_soon(expires_at: datetime, now: datetime | None = None) -> bool:
    """Return whether a request expires within the hour (worth drawing attention to)."""
    return expires_at - (now or clock.now()) <= timedelta(hours=1)
