"""What a link in a booking mail can do, whom it is for, and until when it may be used."""

from __future__ import annotations

import enum
from datetime import datetime


class MailAction(enum.StrEnum):
    ACCEPT = "accept"  # the instructor confirms a request
    DECLINE = "decline"
    CANCEL = "cancel"  # the student cancels a lesson
    RESCHEDULE = "reschedule"  # the student asks to move a lesson


# Actions the booking's instructor takes; the others are the student's.
INSTRUCTOR_ACTIONS: frozenset[MailAction] = frozenset({MailAction.ACCEPT, MailAction.DECLINE})


def valid_until(action: MailAction, starts_at: datetime, expires_at: datetime) -> datetime:
    """Return when a link stops working: an answer until the request expires, a change until the lesson starts."""
    return expires_at if action in INSTRUCTOR_ACTIONS else starts_at


def is_for(action: MailAction, user_id: int, instructor_id: int, student_id: int) -> bool:
    """Return whether this person is the one an action's link may be sent to."""
    return user_id == (instructor_id if action in INSTRUCTOR_ACTIONS else student_id)
