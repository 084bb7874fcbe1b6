"""The "Book a student" page's model: whose lessons, which students to choose from, and the instructor's zone."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ...domain.bookings import Role
from ...domain.links import LinkPurpose
from ...extensions import db
from ...models import AccessLink, Booking, User
from .. import availability
from ..studio import get_studio


@dataclass(frozen=True)
class StudentChoice:
    """A student the form offers."""

    id: int
    name: str
    email: str


@dataclass(frozen=True)
class BookStudentPage:
    """What the form needs: the instructor and their zone, the instructors the owner may pick, the students."""

    instructor: User
    tz: str
    default_lesson_minutes: int
    instructors: list[User]
    students: list[StudentChoice]
    series_max_weeks: int  # 0: weekly lessons are off, the form books one lesson


def students_for(staff: User, instructor_id: int) -> list[StudentChoice]:
    """Return the students staff may pick, by name: the owner every active student; an instructor their own.

    An instructor's students are everyone with a booking with them, and the students they invited.
    """
    query = sa.select(User.id, User.name, User.email).where(
        User.role == Role.STUDENT, User.active.is_(True), User.deleted_at.is_(None)
    )
    if not staff.is_owner:
        booked = sa.select(Booking.id).where(
            Booking.student_id == User.id, Booking.instructor_id == instructor_id
        )
        invited = sa.select(AccessLink.email).where(
            AccessLink.purpose == LinkPurpose.INVITATION, AccessLink.created_by_id == instructor_id
        )
        query = query.where(sa.or_(booked.exists(), User.email.in_(invited)))
    rows = db.session.execute(query.order_by(sa.func.lower(User.name), User.id)).all()
    return [StudentChoice(row.id, row.name, row.email) for row in rows]


def book_student_page(staff: User, instructor: User) -> BookStudentPage:
    """Return the page's data for staff booking a student into this instructor's time."""
    settings = availability.settings_for(instructor)
    return BookStudentPage(
        instructor=instructor,
        tz=availability.instructor_timezone(instructor),
        default_lesson_minutes=settings.default_lesson_minutes,
        instructors=availability.list_instructors() if staff.is_owner else [],
        students=students_for(staff, instructor.id),
        series_max_weeks=get_studio().series_max_weeks,
    )
