"""The weekly lesson page's model: every week with its status, the weeks skipped, and what this viewer may do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ... import wording
from ...domain import bookings as rules
from ...domain.bookings import ACTIVE_STATUSES, Action, Status
from ...domain.series import Week
from ...models import Booking, LessonSeries, User
from ..bookings import actor_for, facts, status_of
from ..bookings import series as series_service
from ..studio import get_studio


@dataclass(frozen=True)
class SeriesLesson:
    """One week of the series as the page lists it."""

    booking: Booking
    status: str
    local_on: date  # its date in the instructor's zone (what "this and all later ones" counts from)
    can_cancel: bool  # this viewer may cancel it now
    kept: bool  # the cancellation window protects it from this viewer


@dataclass(frozen=True)
class SeriesPage:
    """What the weekly lesson page shows one viewer."""

    series: LessonSeries
    summary: str
    lessons: list[SeriesLesson]
    skipped: list[tuple[Week, str]]  # with the sentence saying why
    is_staff: bool
    pending: list[SeriesLesson]
    can_renew: bool
    max_weeks: int
    instructor_tz: str

    @property
    def weeks(self) -> list[tuple[SeriesLesson | None, tuple[Week, str] | None]]:
        """Return every week in date order: its lesson, or the skipped week with its sentence."""
        rows: list[tuple[date, SeriesLesson | None, tuple[Week, str] | None]] = [
            (lesson.local_on, lesson, None) for lesson in self.lessons
        ]
        rows.extend((skip[0].on, None, skip) for skip in self.skipped)
        return [(lesson, skip) for _, lesson, skip in sorted(rows, key=lambda row: row[0])]


def series_page(viewer: User, series_id: int, now: datetime) -> SeriesPage:
    """Build the weekly lesson page for a viewer who may see it (a 404 ServiceError otherwise)."""
    series = series_service.get_series_for(viewer, series_id)
    outcome = series_service.outcome_of(series)
    window = get_studio().cancellation_window_hours
    actor = actor_for(viewer)
    lessons = []
    for booking in outcome.bookings:
        status = status_of(booking, now)
        refusal = None
        active = status in ACTIVE_STATUSES and booking.starts_at > now
        if active:
            refusal = rules.cancel_refused(facts(booking), actor, now=now, cancellation_window_hours=window)
        lessons.append(
            SeriesLesson(
                booking=booking,
                status=status.value,
                local_on=wording.local(booking.starts_at, series.timezone).date(),
                can_cancel=active and refusal is None,
                kept=refusal is not None and refusal.code == "cancellation_window",
            )
        )
    is_staff = series_service.is_staff_of(viewer, series.instructor_id) and viewer.id != series.student_id
    pending = [lesson for lesson in lessons if lesson.status == Status.PENDING.value]
    maximum = get_studio().series_max_weeks
    return SeriesPage(
        series=series,
        summary=series_service.summary_of(series),
        lessons=lessons,
        skipped=[(w, wording.series_skip(str(w.skip), w.on)) for w in outcome.skipped],
        is_staff=is_staff,
        pending=pending,
        can_renew=is_staff and not pending and maximum > 0,
        max_weeks=maximum,
        instructor_tz=series.timezone,
    )


def can_cancel_from(viewer: User, booking: Booking, now: datetime) -> bool:
    """Return whether "Cancel this and all later ones" applies: a series lesson the viewer could cancel."""
    if (
        booking.series_id is None
        or status_of(booking, now) not in ACTIVE_STATUSES
        or booking.starts_at <= now
    ):
        return False
    try:
        rules.next_status(
            facts(booking),
            Action.CANCEL,
            actor_for(viewer),
            now=now,
            cancellation_window_hours=get_studio().cancellation_window_hours,
        )
    except rules.TransitionRefused:
        return False
    return True
