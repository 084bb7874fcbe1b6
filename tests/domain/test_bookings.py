"""Tests for the booking state machine and request rules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from booking_app.domain.bookings import (
    ACTIVE_STATUSES,
    AUTO_DECLINE_REASON,
    SLOT_TAKEN,
    STUDENT_CLASH,
    SYSTEM,
    Action,
    Actor,
    BookingFacts,
    RequestRefused,
    Role,
    Status,
    TransitionRefused,
    allowed_actions,
    can_view,
    cancel_refusal_reason,
    effective_status,
    expires_at,
    is_active,
    next_status,
    validate_request,
)

OWNER_ID, INSTRUCTOR_ID, OTHER_INSTRUCTOR_ID, STUDENT_ID, OTHER_STUDENT_ID = 1, 10, 11, 20, 21
WINDOW = 24

CREATED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
STARTS = CREATED + timedelta(hours=48)
ENDS = STARTS + timedelta(hours=1)
EXPIRES = CREATED + timedelta(hours=4)

ACTORS: dict[str, Actor] = {
    "student": Actor(STUDENT_ID, Role.STUDENT),
    "instructor": Actor(INSTRUCTOR_ID, Role.INSTRUCTOR),
    "owner": Actor(OWNER_ID, Role.OWNER),
    "other_instructor": Actor(OTHER_INSTRUCTOR_ID, Role.INSTRUCTOR),
    "other_student": Actor(OTHER_STUDENT_ID, Role.STUDENT),
    "system": SYSTEM,
}

MOMENTS: dict[str, datetime] = {
    "soon_after_request": CREATED + timedelta(hours=1),
    "after_expiry": EXPIRES + timedelta(hours=1),
    "inside_cancellation_window": STARTS - timedelta(hours=2),
    "during_lesson": STARTS + timedelta(minutes=30),
    "after_lesson": ENDS + timedelta(hours=1),
}

# (status, action, actor kind) -> the status it leads to when the timing is right; nothing else.
ALLOWED: dict[tuple[Status, Action, str], Status] = {
    (Status.PENDING, Action.CONFIRM, "instructor"): Status.CONFIRMED,
    (Status.PENDING, Action.CONFIRM, "owner"): Status.CONFIRMED,
    (Status.PENDING, Action.DECLINE, "instructor"): Status.DECLINED,
    (Status.PENDING, Action.DECLINE, "owner"): Status.DECLINED,
    (Status.PENDING, Action.AUTO_DECLINE, "system"): Status.DECLINED,
    (Status.PENDING, Action.EXPIRE, "system"): Status.EXPIRED,
    (Status.PENDING, Action.CANCEL, "student"): Status.CANCELLED,
    (Status.PENDING, Action.CANCEL, "instructor"): Status.CANCELLED,
    (Status.PENDING, Action.CANCEL, "owner"): Status.CANCELLED,
    (Status.CONFIRMED, Action.CANCEL, "student"): Status.CANCELLED,
    (Status.CONFIRMED, Action.CANCEL, "instructor"): Status.CANCELLED,
    (Status.CONFIRMED, Action.CANCEL, "owner"): Status.CANCELLED,
    (Status.CONFIRMED, Action.COMPLETE, "system"): Status.COMPLETED,
    (Status.CONFIRMED, Action.NO_SHOW, "instructor"): Status.NO_SHOW,
    (Status.CONFIRMED, Action.NO_SHOW, "owner"): Status.NO_SHOW,
    (Status.COMPLETED, Action.NO_SHOW, "instructor"): Status.NO_SHOW,
    (Status.COMPLETED, Action.NO_SHOW, "owner"): Status.NO_SHOW,
    # The person deleting their account, either party (tests/domain/test_close_account.py has the rest).
    (Status.PENDING, Action.CLOSE_ACCOUNT, "student"): Status.CANCELLED,
    (Status.PENDING, Action.CLOSE_ACCOUNT, "instructor"): Status.CANCELLED,
    (Status.CONFIRMED, Action.CLOSE_ACCOUNT, "student"): Status.CANCELLED,
    (Status.CONFIRMED, Action.CLOSE_ACCOUNT, "instructor"): Status.CANCELLED,
}

# A moment at which each allowed combination goes through.
ALLOWED_AT: dict[tuple[Status, Action], datetime] = {
    (Status.PENDING, Action.CONFIRM): MOMENTS["soon_after_request"],
    (Status.PENDING, Action.DECLINE): MOMENTS["soon_after_request"],
    (Status.PENDING, Action.AUTO_DECLINE): MOMENTS["soon_after_request"],
    (Status.PENDING, Action.EXPIRE): MOMENTS["after_expiry"],
    (Status.PENDING, Action.CANCEL): MOMENTS["soon_after_request"],
    (Status.CONFIRMED, Action.CANCEL): MOMENTS["soon_after_request"],
    (Status.CONFIRMED, Action.COMPLETE): MOMENTS["after_lesson"],
    (Status.CONFIRMED, Action.NO_SHOW): MOMENTS["during_lesson"],
    (Status.COMPLETED, Action.NO_SHOW): MOMENTS["after_lesson"],
    (Status.PENDING, Action.CLOSE_ACCOUNT): MOMENTS["soon_after_request"],
    (Status.CONFIRMED, Action.CLOSE_ACCOUNT): MOMENTS["inside_cancellation_window"],
}

REFUSED = [
    combination for combination in itertools.product(Status, Action, ACTORS) if combination not in ALLOWED
]


def booking(
    status: Status = Status.PENDING,
    *,
    instructor_id: int = INSTRUCTOR_ID,
    student_id: int = STUDENT_ID,
    expires_at: datetime = EXPIRES,
) -> BookingFacts:
    return BookingFacts(
        status=status,
        instructor_id=instructor_id,
        student_id=student_id,
        starts_at=STARTS,
        ends_at=ENDS,
        expires_at=expires_at,
    )


def attempt(facts: BookingFacts, action: Action, actor: Actor, now: datetime) -> Status:
    return next_status(facts, action, actor, now=now, cancellation_window_hours=WINDOW)


def refusal(facts: BookingFacts, action: Action, actor: Actor, now: datetime) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as caught:
        attempt(facts, action, actor, now)
    return caught.value


def test_the_refused_table_covers_every_other_combination() -> None:
    assert len(REFUSED) + len(ALLOWED) == len(Status) * len(Action) * len(ACTORS)


@pytest.mark.parametrize(("status", "action", "kind"), list(ALLOWED))
def test_an_allowed_action_leads_to_its_status(status: Status, action: Action, kind: str) -> None:
    now = ALLOWED_AT[(status, action)]
    assert attempt(booking(status), action, ACTORS[kind], now) is ALLOWED[(status, action, kind)]


@pytest.mark.parametrize(("status", "action", "kind"), REFUSED)
def test_every_other_combination_is_refused_at_every_moment(
    status: Status, action: Action, kind: str
) -> None:
    for now in MOMENTS.values():
        error = refusal(booking(status), action, ACTORS[kind], now)
        # A refusal because of where the booking already is names that status (the services word it);
        # every other refusal is its own sentence.
        assert error.status is not None if error.code == "not_allowed" else error.message.endswith(".")
        assert str(error) == error.message


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("kind", ["other_instructor", "other_student"])
@pytest.mark.parametrize("action", list(Action))
def test_someone_outside_the_booking_is_forbidden(status: Status, kind: str, action: Action) -> None:
    error = refusal(booking(status), action, ACTORS[kind], MOMENTS["soon_after_request"])
    assert (error.code, error.message) == ("forbidden", "You cannot change this booking.")


@pytest.mark.parametrize("kind", ["student", "instructor", "owner"])
@pytest.mark.parametrize("action", [Action.EXPIRE, Action.COMPLETE, Action.AUTO_DECLINE])
def test_people_cannot_take_the_workers_actions(kind: str, action: Action) -> None:
    error = refusal(booking(Status.PENDING), action, ACTORS[kind], MOMENTS["after_lesson"])
    assert error.code == "forbidden"


@pytest.mark.parametrize("action", [Action.CONFIRM, Action.DECLINE, Action.NO_SHOW])
def test_a_student_cannot_decide_their_own_booking(action: Action) -> None:
    for status in (Status.PENDING, Status.CONFIRMED):
        error = refusal(booking(status), action, ACTORS["student"], MOMENTS["during_lesson"])
        assert error.code == "forbidden"


@pytest.mark.parametrize("status", [Status.CONFIRMED, Status.DECLINED, Status.CANCELLED, Status.COMPLETED, Status.NO_SHOW])
def test_confirming_a_settled_booking_says_what_it_already_is(status: Status) -> None:
    error = refusal(booking(status), Action.CONFIRM, ACTORS["instructor"], MOMENTS["soon_after_request"])
    assert (error.code, error.status) == ("not_allowed", status)


def test_completing_a_pending_request_says_it_is_still_pending() -> None:
    error = refusal(booking(Status.PENDING), Action.COMPLETE, SYSTEM, MOMENTS["soon_after_request"])
    assert (error.code, error.status) == ("not_allowed", Status.PENDING)


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        (Action.CONFIRM, "instructor"),
        (Action.CONFIRM, "owner"),
        (Action.DECLINE, "instructor"),
        (Action.AUTO_DECLINE, "system"),
        (Action.CANCEL, "student"),
        (Action.CANCEL, "owner"),
    ],
)
def test_a_pending_request_past_its_expiry_is_refused_as_expired(action: Action, kind: str) -> None:
    error = refusal(booking(Status.PENDING), action, ACTORS[kind], EXPIRES)
    assert (error.code, error.message) == ("expired", "This request has expired.")


def test_the_worker_expires_a_pending_request_exactly_at_its_expiry() -> None:
    assert attempt(booking(Status.PENDING), Action.EXPIRE, SYSTEM, EXPIRES) is Status.EXPIRED


def test_the_worker_cannot_expire_a_request_a_second_early() -> None:
    error = refusal(booking(Status.PENDING), Action.EXPIRE, SYSTEM, EXPIRES - timedelta(seconds=1))
    assert error.code == "too_early"


def test_a_student_can_cancel_a_second_outside_the_cancellation_window() -> None:
    now = STARTS - timedelta(hours=24, seconds=1)
    assert attempt(booking(Status.CONFIRMED), Action.CANCEL, ACTORS["student"], now) is Status.CANCELLED


@pytest.mark.parametrize("before_start", [timedelta(hours=24), timedelta(hours=2), timedelta(seconds=1)])
def test_a_student_cannot_cancel_within_the_cancellation_window(before_start: timedelta) -> None:
    error = refusal(booking(Status.CONFIRMED), Action.CANCEL, ACTORS["student"], STARTS - before_start)
    assert error.code == "cancellation_window"
    assert error.message == "Cannot cancel within 24 hours of start time. Contact your instructor."


def test_the_cancellation_sentence_names_a_one_hour_window_in_the_singular() -> None:
    with pytest.raises(TransitionRefused) as caught:
        next_status(
            booking(Status.CONFIRMED),
            Action.CANCEL,
            ACTORS["student"],
            now=STARTS - timedelta(minutes=30),
            cancellation_window_hours=1,
        )
    assert caught.value.message == "Cannot cancel within 1 hour of start time. Contact your instructor."


@pytest.mark.parametrize("kind", ["instructor", "owner"])
def test_staff_can_cancel_a_confirmed_lesson_until_the_last_second(kind: str) -> None:
    now = STARTS - timedelta(seconds=1)
    assert attempt(booking(Status.CONFIRMED), Action.CANCEL, ACTORS[kind], now) is Status.CANCELLED


@pytest.mark.parametrize("kind", ["student", "instructor", "owner"])
def test_nobody_can_cancel_a_lesson_that_has_started(kind: str) -> None:
    error = refusal(booking(Status.CONFIRMED), Action.CANCEL, ACTORS[kind], STARTS)
    assert (error.code, error.message) == ("already_started", "This lesson has already started.")


def test_a_student_can_withdraw_a_pending_request_inside_the_cancellation_window() -> None:
    facts = booking(Status.PENDING, expires_at=STARTS)
    now = STARTS - timedelta(hours=1)
    assert attempt(facts, Action.CANCEL, ACTORS["student"], now) is Status.CANCELLED


@pytest.mark.parametrize("kind", ["instructor", "owner"])
def test_a_no_show_can_be_marked_once_the_lesson_has_started(kind: str) -> None:
    for now in (STARTS, ENDS + timedelta(days=1)):
        assert attempt(booking(Status.CONFIRMED), Action.NO_SHOW, ACTORS[kind], now) is Status.NO_SHOW


def test_a_no_show_cannot_be_marked_before_the_lesson_starts() -> None:
    now = STARTS - timedelta(seconds=1)
    error = refusal(booking(Status.CONFIRMED), Action.NO_SHOW, ACTORS["instructor"], now)
    assert error.message == "You can mark a no-show once the lesson has started."


def test_the_worker_completes_a_lesson_only_once_it_has_ended() -> None:
    assert attempt(booking(Status.CONFIRMED), Action.COMPLETE, SYSTEM, ENDS) is Status.COMPLETED
    error = refusal(booking(Status.CONFIRMED), Action.COMPLETE, SYSTEM, ENDS - timedelta(seconds=1))
    assert error.code == "too_early"


def test_an_instructor_who_booked_another_instructor_acts_as_the_student() -> None:
    learner = Actor(OTHER_INSTRUCTOR_ID, Role.INSTRUCTOR)
    facts = booking(Status.PENDING, student_id=OTHER_INSTRUCTOR_ID)
    now = MOMENTS["soon_after_request"]
    assert attempt(facts, Action.CANCEL, learner, now) is Status.CANCELLED
    assert refusal(facts, Action.CONFIRM, learner, now).code == "forbidden"


def test_an_owner_cannot_confirm_their_own_request_with_another_instructor() -> None:
    owner = ACTORS["owner"]
    facts = booking(Status.PENDING, student_id=OWNER_ID)
    now = MOMENTS["soon_after_request"]
    assert refusal(facts, Action.CONFIRM, owner, now).code == "forbidden"
    assert attempt(facts, Action.CANCEL, owner, now) is Status.CANCELLED


def test_an_owner_who_teaches_the_lesson_acts_as_its_instructor() -> None:
    facts = booking(Status.PENDING, instructor_id=OWNER_ID)
    assert attempt(facts, Action.CONFIRM, ACTORS["owner"], CREATED) is Status.CONFIRMED


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        attempt(booking(), Action.CONFIRM, ACTORS["instructor"], datetime(2025, 3, 3, 10, 0))


# --- expiry and reading ---------------------------------------------------------------------


def test_a_request_expires_expiry_hours_after_it_was_made() -> None:
    assert expires_at(CREATED, STARTS, 4) == CREATED + timedelta(hours=4)


def test_a_request_expires_at_the_lesson_start_when_that_comes_first() -> None:
    starts_at = CREATED + timedelta(hours=3)
    assert expires_at(CREATED, starts_at, 4) == starts_at


def test_a_request_made_exactly_expiry_hours_ahead_expires_at_the_start() -> None:
    starts_at = CREATED + timedelta(hours=4)
    assert expires_at(CREATED, starts_at, 4) == starts_at


@pytest.mark.parametrize(
    ("status", "now", "reads_as"),
    [
        (Status.PENDING, EXPIRES - timedelta(seconds=1), Status.PENDING),
        (Status.PENDING, EXPIRES, Status.EXPIRED),
        (Status.PENDING, ENDS + timedelta(days=1), Status.EXPIRED),
        (Status.CONFIRMED, ENDS + timedelta(days=1), Status.CONFIRMED),
        (Status.CANCELLED, ENDS + timedelta(days=1), Status.CANCELLED),
        (Status.DECLINED, EXPIRES + timedelta(hours=1), Status.DECLINED),
        (Status.EXPIRED, CREATED, Status.EXPIRED),
        (Status.COMPLETED, ENDS + timedelta(days=1), Status.COMPLETED),
        (Status.NO_SHOW, ENDS, Status.NO_SHOW),
    ],
)
def test_the_effective_status_reads_an_overdue_request_as_expired(
    status: Status, now: datetime, reads_as: Status
) -> None:
    assert effective_status(status, EXPIRES, ENDS, now) is reads_as


@pytest.mark.parametrize(
    ("status", "now", "active"),
    [
        (Status.PENDING, EXPIRES - timedelta(seconds=1), True),
        (Status.PENDING, EXPIRES, False),
        (Status.CONFIRMED, ENDS + timedelta(days=1), True),
        (Status.DECLINED, CREATED, False),
        (Status.EXPIRED, CREATED, False),
        (Status.CANCELLED, CREATED, False),
        (Status.COMPLETED, CREATED, False),
        (Status.NO_SHOW, CREATED, False),
    ],
)
def test_only_unexpired_pending_and_confirmed_bookings_are_active(
    status: Status, now: datetime, active: bool
) -> None:
    assert is_active(status, EXPIRES, now) is active


def test_the_active_statuses_are_pending_and_confirmed() -> None:
    assert frozenset({Status.PENDING, Status.CONFIRMED}) == ACTIVE_STATUSES


# --- buttons and policy sentences -----------------------------------------------------------

CONFIRM, DECLINE, CANCEL, NO_SHOW = Action.CONFIRM, Action.DECLINE, Action.CANCEL, Action.NO_SHOW


@pytest.mark.parametrize(
    ("status", "moment", "kind", "actions"),
    [
        (Status.PENDING, "soon_after_request", "instructor", [CONFIRM, DECLINE, CANCEL]),
        (Status.PENDING, "soon_after_request", "owner", [CONFIRM, DECLINE, CANCEL]),
        (Status.PENDING, "soon_after_request", "student", [CANCEL]),
        (Status.PENDING, "soon_after_request", "other_instructor", []),
        (Status.PENDING, "soon_after_request", "other_student", []),
        (Status.PENDING, "soon_after_request", "system", []),
        (Status.PENDING, "after_expiry", "instructor", []),
        (Status.PENDING, "after_expiry", "student", []),
        (Status.CONFIRMED, "soon_after_request", "instructor", [CANCEL]),
        (Status.CONFIRMED, "soon_after_request", "student", [CANCEL]),
        (Status.CONFIRMED, "inside_cancellation_window", "instructor", [CANCEL]),
        (Status.CONFIRMED, "inside_cancellation_window", "owner", [CANCEL]),
        (Status.CONFIRMED, "inside_cancellation_window", "student", []),
        (Status.CONFIRMED, "during_lesson", "instructor", [NO_SHOW]),
        (Status.CONFIRMED, "during_lesson", "owner", [NO_SHOW]),
        (Status.CONFIRMED, "during_lesson", "student", []),
        (Status.CONFIRMED, "after_lesson", "instructor", [NO_SHOW]),
        (Status.CANCELLED, "soon_after_request", "instructor", []),
        (Status.COMPLETED, "after_lesson", "owner", [NO_SHOW]),
        (Status.COMPLETED, "after_lesson", "instructor", [NO_SHOW]),
        (Status.COMPLETED, "after_lesson", "student", []),
        (Status.NO_SHOW, "after_lesson", "instructor", []),
    ],
)
def test_allowed_actions_offer_each_party_only_its_buttons(
    status: Status, moment: str, kind: str, actions: list[Action]
) -> None:
    offered = allowed_actions(
        booking(status), ACTORS[kind], now=MOMENTS[moment], cancellation_window_hours=WINDOW
    )
    assert offered == actions


@pytest.mark.parametrize(
    ("status", "moment", "kind", "reason"),
    [
        (
            Status.CONFIRMED,
            "inside_cancellation_window",
            "student",
            "Cannot cancel within 24 hours of start time. Contact your instructor.",
        ),
        (Status.CONFIRMED, "during_lesson", "student", "This lesson has already started."),
        (Status.CONFIRMED, "soon_after_request", "student", None),
        (Status.CONFIRMED, "inside_cancellation_window", "instructor", None),
        (Status.PENDING, "soon_after_request", "student", None),
        (Status.PENDING, "after_expiry", "student", None),
        (Status.CANCELLED, "inside_cancellation_window", "student", None),
    ],
)
def test_the_cancel_policy_is_explained_only_when_an_active_booking_cannot_be_cancelled(
    status: Status, moment: str, kind: str, reason: str | None
) -> None:
    explained = cancel_refusal_reason(
        booking(status), ACTORS[kind], now=MOMENTS[moment], cancellation_window_hours=WINDOW
    )
    assert explained == reason


@pytest.mark.parametrize(
    ("kind", "visible"),
    [
        ("owner", True),
        ("instructor", True),
        ("student", True),
        ("other_instructor", False),
        ("other_student", False),
        ("system", False),
    ],
)
def test_only_the_owner_and_the_bookings_parties_can_view_it(kind: str, visible: bool) -> None:
    assert can_view(INSTRUCTOR_ID, STUDENT_ID, ACTORS[kind]) is visible


def test_an_instructor_can_view_a_lesson_they_booked_as_a_student() -> None:
    learner = Actor(OTHER_INSTRUCTOR_ID, Role.INSTRUCTOR)
    assert can_view(INSTRUCTOR_ID, OTHER_INSTRUCTOR_ID, learner)


# --- new requests ---------------------------------------------------------------------------


def test_nobody_can_book_a_lesson_with_themselves() -> None:
    with pytest.raises(RequestRefused) as caught:
        validate_request(instructor_id=INSTRUCTOR_ID, student_id=INSTRUCTOR_ID, starts_at=STARTS, now=CREATED)
    assert (caught.value.code, caught.value.message) == (
        "self_booking",
        "You cannot book a lesson with yourself.",
    )


@pytest.mark.parametrize("starts_at", [CREATED, CREATED - timedelta(minutes=1)])
def test_a_lesson_that_has_already_begun_cannot_be_requested(starts_at: datetime) -> None:
    with pytest.raises(RequestRefused) as caught:
        validate_request(instructor_id=INSTRUCTOR_ID, student_id=STUDENT_ID, starts_at=starts_at, now=CREATED)
    assert (caught.value.code, caught.value.message) == (
        "past",
        "That time has already passed. Select another.",
    )


def test_a_future_lesson_with_someone_else_can_be_requested() -> None:
    validate_request(
        instructor_id=INSTRUCTOR_ID,
        student_id=STUDENT_ID,
        starts_at=CREATED + timedelta(minutes=1),
        now=CREATED,
    )


def test_the_shared_sentences_match_the_studios_wording() -> None:
    assert SLOT_TAKEN == "This time is no longer available. Select another."
    assert STUDENT_CLASH == "You have another session at this time."
    assert AUTO_DECLINE_REASON == "Instructor availability changed"
