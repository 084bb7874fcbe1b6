"""Closing an account cancels its requests and lessons ahead whatever the cancellation window, never a started one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking_app.domain.bookings import (
    SYSTEM,
    Action,
    Actor,
    BookingFacts,
    Role,
    Status,
    TransitionRefused,
    allowed_actions,
    next_status,
)

STARTS = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
STUDENT, INSTRUCTOR, STRANGER = Actor(20, Role.STUDENT), Actor(10, Role.INSTRUCTOR), Actor(11, Role.INSTRUCTOR)
OWNER = Actor(1, Role.OWNER)


def _booking(status: Status) -> BookingFacts:
    return BookingFacts(status, 10, 20, STARTS, STARTS + timedelta(hours=1), STARTS - timedelta(hours=1))


@pytest.mark.parametrize("actor", [STUDENT, INSTRUCTOR], ids=["student", "instructor"])
@pytest.mark.parametrize("status", [Status.PENDING, Status.CONFIRMED])
def test_either_party_leaving_cancels_even_an_hour_and_a_half_before_the_start(actor, status):
    now = STARTS - timedelta(minutes=90)  # inside a 24-hour window
    assert next_status(_booking(status), Action.CLOSE_ACCOUNT, actor, now=now, cancellation_window_hours=24) \
        is Status.CANCELLED


@pytest.mark.parametrize(("actor", "status", "now", "code"), [
    (STUDENT, Status.CONFIRMED, STARTS + timedelta(minutes=5), "already_started"),
    (STUDENT, Status.PENDING, STARTS - timedelta(minutes=30), "expired"),
    (STUDENT, Status.COMPLETED, STARTS - timedelta(days=1), "not_allowed"),
    (STRANGER, Status.CONFIRMED, STARTS - timedelta(days=1), "forbidden"),
    (OWNER, Status.CONFIRMED, STARTS - timedelta(days=1), "forbidden"),  # staff, but not the one leaving
    (SYSTEM, Status.CONFIRMED, STARTS - timedelta(days=1), "forbidden"),
])
def test_leaving_leaves_alone_what_is_started_over_or_not_theirs(actor, status, now, code):
    with pytest.raises(TransitionRefused) as refused:
        next_status(_booking(status), Action.CLOSE_ACCOUNT, actor, now=now, cancellation_window_hours=24)
    assert refused.value.code == code


def test_leaving_is_not_a_button_anyone_presses():
    now = STARTS - timedelta(days=2)
    assert Action.CLOSE_ACCOUNT not in allowed_actions(_booking(Status.CONFIRMED), STUDENT, now=now,
                                                       cancellation_window_hours=24)
