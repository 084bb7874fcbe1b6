"""The booking page's model: status, the actions this viewer may take, and the lesson it replaces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ...domain.bookings import ACTIVE_STATUSES, Status
from ...models import Booking, User
from .. import ServiceError
from .. import bookings as booking_service
from ..availability import instructor_timezone
from ..lesson_notes import LessonNotesView, lesson_notes_view


@dataclass
class BookingDetail:
    """What the booking page shows one viewer."""

    booking: Booking
    status: str
    actions: list[str]
    refusal: str | None
    can_reschedule: bool
    reschedule_request: Booking | None
    can_move: bool
    instructor_tz: str
    has_calendar: bool
    original: Booking | None
    lesson_notes: LessonNotesView | None = None


def _visible(viewer: User, booking_id: int | None) -> Booking | None:
    if not booking_id:
        return None
    try:
        return booking_service.get_for(viewer, booking_id)
    except ServiceError:
        return None


def booking_detail(viewer: User, booking: Booking, now: datetime) -> BookingDetail:
    """Build the booking page for a viewer who may see the booking."""
    status = booking_service.status_of(booking, now)
    is_staff = viewer.id != booking.student_id and (viewer.id == booking.instructor_id or viewer.is_owner)
    return BookingDetail(
        booking=booking, status=status.value,
        actions=[a.value for a in booking_service.actions_for(viewer, booking, now)],
        # Only the cancellation-window refusal is shown next to the actions; the others have no action to explain.
        refusal=booking_service.window_refusal(viewer, booking, now),
        can_reschedule=booking_service.can_reschedule(viewer, booking, now),
        reschedule_request=booking_service.pending_reschedule(booking, now),
        can_move=is_staff and status in ACTIVE_STATUSES and booking.starts_at > now,
        instructor_tz=instructor_timezone(booking.instructor),
        has_calendar=status in ACTIVE_STATUSES or status is Status.COMPLETED,
        original=_visible(viewer, booking.reschedule_of_id),
        lesson_notes=lesson_notes_view(viewer, booking, now),
    )
