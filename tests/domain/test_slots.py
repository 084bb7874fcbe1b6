"""Slot engine: windows cut into slots, minus blocks, bookings, notice and horizon, across DST."""

from __future__ import annotations

import os
import time as process_time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_app.domain.slots import (
    Block,
    Busy,
    InvalidBlock,
    InvalidWindow,
    OneTimeWindow,
    Schedule,
    Slot,
    WeeklyWindow,
    covered_by_windows,
    generate_slots,
    horizon_end_at,
    is_open_slot,
    validate_block,
    validate_window,
)
from booking_app.domain.timeutil import local_date_range_to_utc, utc_to_local
from tests.domain.naive_slots import naive_slots

NY = "America/New_York"
SYDNEY = "Australia/Sydney"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
MON, TUE, WED, THU, FRI, SAT, SUN = range(1, 8)
MONDAY = date(2026, 3, 2)  # a plain Monday in New York (EST)
SPRING_FORWARD = date(2026, 3, 8)  # Sunday; 02:00–02:59 does not exist in New York
FALL_BACK = date(2026, 11, 1)  # Sunday; 01:00–01:59 happens twice in New York


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def local(on: date, hour: int, minute: int = 0, tz: str = NY) -> datetime:
    """Return the UTC instant of an unambiguous wall-clock time."""
    return datetime(on.year, on.month, on.day, hour, minute, tzinfo=ZoneInfo(tz)).astimezone(UTC)


SCHEDULE_FIELDS = ("tz", "weekly", "one_time", "blocks", "buffer_minutes", "min_notice_minutes", "horizon_end_at")


def split(arguments: dict[str, Any]) -> tuple[Schedule, dict[str, Any]]:
    """Split flat test arguments into the instructor's schedule and the call's own arguments."""
    schedule = Schedule(**{k: v for k, v in arguments.items() if k in SCHEDULE_FIELDS})
    return schedule, {k: v for k, v in arguments.items() if k not in SCHEDULE_FIELDS}


def generate(**arguments: Any) -> list[Slot]:
    schedule, rest = split(arguments)
    return generate_slots(schedule, **rest)


def open_slot(starts_at: datetime, minutes: int | None, **arguments: Any) -> Slot | None:
    schedule, rest = split(arguments)
    return is_open_slot(schedule, starts_at, minutes, **rest)


def covered(starts_at: datetime, ends_at: datetime, **arguments: Any) -> bool:
    schedule, rest = split(arguments)
    assert not rest
    return covered_by_windows(schedule, starts_at, ends_at)


def slots(**kwargs: Any) -> list[Slot]:
    arguments: dict[str, Any] = {
        "weekly": (),
        "one_time": (),
        "blocks": (),
        "busy": (),
        "tz": NY,
        "start_on": MONDAY,
        "end_on": kwargs.get("start_on", MONDAY),
        "now": LONG_AGO,
    }
    arguments.update(kwargs)
    return generate(**arguments)


def starts(result: Sequence[Slot], tz: str = NY) -> list[str]:
    """Return each slot's local start as HH:MM (with its length when lengths differ)."""
    return [utc_to_local(s.starts_at, tz).strftime("%H:%M") for s in result]


def one_day(start: time, end: time, minutes: int, on: date = MONDAY) -> list[OneTimeWindow]:
    return [OneTimeWindow(on, start, end, minutes)]


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "minutes", "message"),
    [
        (time(9), time(10), 60, None),
        (time(9), time(9, 5), 5, None),
        (time(0), time(23, 59), 480, None),
        (time(9), time(9), 60, "The end time must be after the start time on the same day."),
        (time(10), time(9), 60, "The end time must be after the start time on the same day."),
        (time(22), time(0), 60, "The end time must be after the start time on the same day."),
        (time(9), time(9, 59), 60, "The window is shorter than one 60-minute lesson."),
        (time(9), time(10), 4, "The lesson length must be between 5 and 480 minutes."),
        (time(9), time(18), 481, "The lesson length must be between 5 and 480 minutes."),
        (time(9), time(10), 0, "The lesson length must be between 5 and 480 minutes."),
        (time(9, 0, 30), time(10), 15, "Times must be whole minutes, such as 09:00 or 14:15."),
    ],
)
def test_validate_window(start: time, end: time, minutes: int, message: str | None) -> None:
    if message is None:
        validate_window(start, end, minutes)
    else:
        with pytest.raises(InvalidWindow) as raised:
            validate_window(start, end, minutes)
        assert str(raised.value) == message


@pytest.mark.parametrize(
    ("start_on", "end_on", "start", "end", "message"),
    [
        (MONDAY, MONDAY, None, None, None),
        (MONDAY, MONDAY + timedelta(days=6), time(12), time(13), None),
        (MONDAY, MONDAY - timedelta(days=1), None, None, "The end date must be on or after the start date."),
        (
            MONDAY,
            MONDAY,
            time(12),
            None,
            "Give both a start and an end time, or neither to block whole days.",
        ),
        (
            MONDAY,
            MONDAY,
            None,
            time(12),
            "Give both a start and an end time, or neither to block whole days.",
        ),
        (MONDAY, MONDAY, time(12), time(12), "The end time must be after the start time on the same day."),
    ],
)
def test_validate_block(
    start_on: date, end_on: date, start: time | None, end: time | None, message: str | None
) -> None:
    if message is None:
        validate_block(start_on, end_on, start, end)
    else:
        with pytest.raises(InvalidBlock) as raised:
            validate_block(start_on, end_on, start, end)
        assert str(raised.value) == message
        assert isinstance(raised.value, InvalidWindow)


# -- cutting windows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("windows", "minutes", "buffer", "expected"),
    [
        ([(time(9), time(12))], 60, 0, ["09:00", "10:00", "11:00"]),
        # The remainder that cannot hold a lesson is dropped.
        ([(time(9), time(11, 30))], 60, 0, ["09:00", "10:00"]),
        ([(time(9), time(9, 59))], 60, 0, []),
        # Overlapping windows of one length merge into one grid…
        ([(time(9), time(10, 30)), (time(10), time(11, 30))], 45, 0, ["09:00", "09:45", "10:30"]),
        # …touching ones too…
        ([(time(9), time(10, 30)), (time(10, 30), time(12))], 60, 0, ["09:00", "10:00", "11:00"]),
        # …but a gap between them starts a new grid.
        ([(time(9), time(10)), (time(10, 15), time(11, 15))], 60, 0, ["09:00", "10:15"]),
        # A buffer spaces consecutive slots length + buffer apart.
        ([(time(9), time(12))], 60, 15, ["09:00", "10:15"]),
        ([(time(9), time(12, 30))], 60, 15, ["09:00", "10:15", "11:30"]),
    ],
)
def test_windows_are_cut_into_back_to_back_slots(
    windows: list[tuple[time, time]], minutes: int, buffer: int, expected: list[str]
) -> None:
    one_time = [OneTimeWindow(MONDAY, start, end, minutes) for start, end in windows]
    result = slots(one_time=one_time, buffer_minutes=buffer)
    assert starts(result) == expected
    assert all(s.ends_at - s.starts_at == timedelta(minutes=minutes) for s in result)


def test_weekly_and_one_time_windows_of_one_length_merge() -> None:
    result = slots(
        weekly=[WeeklyWindow(MON, time(9), time(10, 30), 45)],
        one_time=one_day(time(10), time(11, 30), 45),
    )
    assert starts(result) == ["09:00", "09:45", "10:30"]


def test_windows_of_different_lengths_are_cut_separately_and_may_overlap() -> None:
    result = slots(one_time=one_day(time(9), time(11), 60) + one_day(time(9), time(10), 30))
    assert [(utc_to_local(s.starts_at, NY).strftime("%H:%M"), s.lesson_minutes) for s in result] == [
        ("09:00", 30),
        ("09:00", 60),
        ("09:30", 30),
        ("10:00", 60),
    ]


def test_identical_windows_give_each_slot_once() -> None:
    result = slots(
        one_time=one_day(time(9), time(11), 60) * 2, weekly=[WeeklyWindow(MON, time(9), time(11), 60)]
    )
    assert starts(result) == ["09:00", "10:00"]


def test_weekly_window_applies_on_its_weekday_from_effective_from_until_effective_until_inclusive() -> None:
    window = WeeklyWindow(MON, time(9), time(10), 60, date(2026, 3, 9), date(2026, 3, 23))
    result = slots(weekly=[window], start_on=date(2026, 3, 1), end_on=date(2026, 3, 31))
    assert [utc_to_local(s.starts_at, NY).date().day for s in result] == [9, 16, 23]


def test_one_time_window_applies_on_its_date_only() -> None:
    result = slots(
        one_time=one_day(time(9), time(10), 60, on=date(2026, 3, 4)),
        start_on=date(2026, 3, 1),
        end_on=date(2026, 3, 31),
    )
    assert [s.starts_at for s in result] == [local(date(2026, 3, 4), 9)]


# -- daylight saving ----------------------------------------------------------------------------


def test_a_nine_oclock_weekly_slot_stays_nine_local_across_dst() -> None:
    result = slots(
        weekly=[WeeklyWindow(MON, time(9), time(10), 60)], start_on=date(2026, 3, 2), end_on=date(2026, 3, 9)
    )
    assert [s.starts_at for s in result] == [z("2026-03-02T14:00Z"), z("2026-03-09T13:00Z")]
    assert starts(result) == ["09:00", "09:00"]


@pytest.mark.parametrize(
    ("start", "end", "minutes", "expected"),
    [
        # The 02:00 slot falls in the gap and is skipped; the grid does not shift.
        (time(1), time(4), 60, ["01:00", "03:00"]),
        (time(2), time(4), 30, ["03:00", "03:30"]),
        # No slot at a wall time that does not exist.
        (time(2), time(3, 30), 30, ["03:00"]),
        # A window ending inside the gap ends when the clock jumps (07:00Z).
        (time(0), time(2, 30), 60, ["00:00", "01:00"]),
        # 01:30 EST + 45 min ends at 03:15 EDT, so the 03:00 slot would overlap it: the earlier one stays.
        (time(1, 30), time(4), 45, ["01:30"]),
    ],
)
def test_spring_forward_gap_gives_no_slot(start: time, end: time, minutes: int, expected: list[str]) -> None:
    result = slots(one_time=one_day(start, end, minutes, on=SPRING_FORWARD), start_on=SPRING_FORWARD)
    assert starts(result) == expected
    assert all(s.ends_at - s.starts_at == timedelta(minutes=minutes) for s in result)


def test_spring_forward_drops_a_slot_that_would_outlast_its_window() -> None:
    # 01:30 EST + 60 min is 03:30 EDT, past the window's real end at 03:00 EDT.
    result = slots(one_time=one_day(time(1, 30), time(3), 60, on=SPRING_FORWARD), start_on=SPRING_FORWARD)
    assert result == []


def test_a_date_that_never_happened_has_no_slots() -> None:
    # Samoa skipped from 29 to 31 December 2011.
    windows = [WeeklyWindow(d, time(0), time(2), 60) for d in range(1, 8)]
    result = slots(
        weekly=windows,
        tz="Pacific/Apia",
        start_on=date(2011, 12, 29),
        end_on=date(2011, 12, 31),
        now=datetime(2011, 1, 1, tzinfo=UTC),
    )
    assert [utc_to_local(s.starts_at, "Pacific/Apia").strftime("%d %H:%M") for s in result] == [
        "29 00:00",
        "29 01:00",
        "31 00:00",
        "31 01:00",
    ]


def test_ambiguous_fall_back_time_means_its_first_occurrence() -> None:
    result = slots(one_time=one_day(time(1, 30), time(2, 30), 60, on=FALL_BACK), start_on=FALL_BACK)
    assert [(s.starts_at, s.ends_at) for s in result] == [(z("2026-11-01T05:30Z"), z("2026-11-01T06:30Z"))]


def test_fall_back_grid_steps_in_wall_clock_time() -> None:
    result = slots(one_time=one_day(time(0), time(3), 60, on=FALL_BACK), start_on=FALL_BACK)
    assert [s.starts_at for s in result] == [
        z("2026-11-01T04:00Z"),  # 00:00 EDT
        z("2026-11-01T05:00Z"),  # 01:00 EDT, the first 01:00
        z("2026-11-01T07:00Z"),  # 02:00 EST
    ]


# -- removing slots -----------------------------------------------------------------------------

NINE_TO_ONE = one_day(time(9), time(13), 60)


@pytest.mark.parametrize(
    ("busy", "buffer", "expected"),
    [
        ([], 0, ["09:00", "10:00", "11:00", "12:00"]),
        ([(10, 0, 11, 0)], 0, ["09:00", "11:00", "12:00"]),
        # Touching bookings do not overlap.
        ([(8, 0, 9, 0), (13, 0, 14, 0)], 0, ["09:00", "10:00", "11:00", "12:00"]),
        # An off-grid booking removes both slots it overlaps; the others do not shift.
        ([(10, 30, 11, 30)], 0, ["09:00", "12:00"]),
        ([(10, 59, 11, 1)], 0, ["09:00", "12:00"]),
    ],
)
def test_busy_bookings_remove_the_slots_they_overlap(
    busy: list[tuple[int, int, int, int]], buffer: int, expected: list[str]
) -> None:
    bookings = [Busy(local(MONDAY, h1, m1), local(MONDAY, h2, m2)) for h1, m1, h2, m2 in busy]
    assert starts(slots(one_time=NINE_TO_ONE, busy=bookings, buffer_minutes=buffer)) == expected


def test_bookings_are_widened_by_the_buffer_on_both_sides() -> None:
    # Grid every 60 min (45 + 15); the 10:00–11:00 booking blocks 09:45–11:15.
    result = slots(
        one_time=one_day(time(9), time(13), 45),
        busy=[Busy(local(MONDAY, 10), local(MONDAY, 11))],
        buffer_minutes=15,
    )
    assert starts(result) == ["09:00", "12:00"]
    unbuffered = slots(
        one_time=one_day(time(9), time(13), 45), busy=[Busy(local(MONDAY, 10), local(MONDAY, 11))]
    )
    assert starts(unbuffered) == ["09:00", "11:15", "12:00"]


@pytest.mark.parametrize(
    ("block", "expected_days"),
    [
        (Block(date(2026, 3, 3), date(2026, 3, 3)), [2, 4, 5, 6]),
        (Block(date(2026, 3, 3), date(2026, 3, 5)), [2, 6]),
        (Block(date(2026, 2, 1), date(2026, 3, 31)), []),
        (Block(date(2026, 3, 7), date(2026, 3, 8)), [2, 3, 4, 5, 6]),
    ],
)
def test_whole_day_blocks_remove_every_slot_of_their_dates(block: Block, expected_days: list[int]) -> None:
    result = slots(
        weekly=[WeeklyWindow(d, time(9), time(10), 60) for d in (MON, TUE, WED, THU, FRI)],
        blocks=[block],
        start_on=date(2026, 3, 2),
        end_on=date(2026, 3, 6),
    )
    assert [utc_to_local(s.starts_at, NY).day for s in result] == expected_days


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (time(10), time(11), ["09:00", "11:00", "12:00"]),
        (time(10, 30), time(11), ["09:00", "11:00", "12:00"]),
        (time(10, 30), time(11, 1), ["09:00", "12:00"]),
        (time(8), time(9), ["09:00", "10:00", "11:00", "12:00"]),
        (time(13), time(14), ["09:00", "10:00", "11:00", "12:00"]),
    ],
)
def test_timed_blocks_remove_the_slots_they_overlap(start: time, end: time, expected: list[str]) -> None:
    assert starts(slots(one_time=NINE_TO_ONE, blocks=[Block(MONDAY, MONDAY, start, end)])) == expected


def test_a_timed_block_over_several_dates_blocks_those_times_on_each_date() -> None:
    result = slots(
        weekly=[WeeklyWindow(d, time(11), time(14), 60) for d in range(1, 8)],
        blocks=[Block(date(2026, 3, 3), date(2026, 3, 5), time(12), time(13))],
        start_on=date(2026, 3, 2),
        end_on=date(2026, 3, 6),
    )
    by_day: dict[int, list[str]] = {}
    for slot in result:
        wall = utc_to_local(slot.starts_at, NY)
        by_day.setdefault(wall.day, []).append(wall.strftime("%H:%M"))
    assert by_day == {
        2: ["11:00", "12:00", "13:00"],
        3: ["11:00", "13:00"],
        4: ["11:00", "13:00"],
        5: ["11:00", "13:00"],
        6: ["11:00", "12:00", "13:00"],
    }


def test_a_whole_day_block_covers_a_short_dst_day() -> None:
    result = slots(
        one_time=one_day(time(0), time(23), 60, on=SPRING_FORWARD),
        blocks=[Block(SPRING_FORWARD, SPRING_FORWARD)],
        start_on=SPRING_FORWARD,
    )
    assert result == []


# -- notice and horizon -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "notice", "expected"),
    [
        (local(MONDAY, 8), 120, ["10:00", "11:00", "12:00"]),
        (local(MONDAY, 8) - timedelta(microseconds=1), 120, ["10:00", "11:00", "12:00"]),
        (local(MONDAY, 8) + timedelta(microseconds=1), 120, ["11:00", "12:00"]),
        # Starting exactly now is fine; a slot already under way is never offered.
        (local(MONDAY, 9), 0, ["09:00", "10:00", "11:00", "12:00"]),
        (local(MONDAY, 9, 1), 0, ["10:00", "11:00", "12:00"]),
        (local(MONDAY, 12, 30), 0, []),
    ],
)
def test_minimum_notice(now: datetime, notice: int, expected: list[str]) -> None:
    assert starts(slots(one_time=NINE_TO_ONE, now=now, min_notice_minutes=notice)) == expected


@pytest.mark.parametrize(
    ("policy", "days", "now", "tz", "expected"),
    [
        ("end_of_month", None, "2026-03-10T12:00Z", NY, "2026-04-01T04:00Z"),
        # Still 31 March in New York although 1 April in UTC.
        ("end_of_month", None, "2026-04-01T03:30Z", NY, "2026-04-01T04:00Z"),
        # Already 1 April in Sydney although 31 March in UTC.
        ("end_of_month", None, "2026-03-31T14:00Z", SYDNEY, "2026-04-30T14:00Z"),
        ("end_of_month", None, "2026-12-15T12:00Z", NY, "2027-01-01T05:00Z"),
        ("end_of_next_month", None, "2026-12-15T12:00Z", NY, "2027-02-01T05:00Z"),
        ("end_of_next_month", None, "2026-01-31T12:00Z", NY, "2026-03-01T05:00Z"),
        ("days", 14, "2026-03-01T12:00Z", NY, "2026-03-15T12:00Z"),
    ],
)
def test_horizon_end_at(policy: str, days: int | None, now: str, tz: str, expected: str) -> None:
    result = horizon_end_at(policy, days, z(now), tz)
    assert result == z(expected)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(("policy", "days"), [("days", None), ("days", 0), ("forever", None)])
def test_horizon_end_at_refuses_unusable_policies(policy: str, days: int | None) -> None:
    with pytest.raises(ValueError):
        horizon_end_at(policy, days, z("2026-03-01T12:00Z"), NY)


def test_slots_stop_at_the_horizon_in_the_instructor_timezone() -> None:
    horizon = horizon_end_at("end_of_month", None, z("2026-03-31T12:00Z"), NY)
    result = slots(
        one_time=[
            OneTimeWindow(date(2026, 3, 31), time(22), time(23, 59), 60),
            OneTimeWindow(date(2026, 4, 1), time(0), time(1), 60),
        ],
        start_on=date(2026, 3, 31),
        end_on=date(2026, 4, 1),
        horizon_end_at=horizon,
    )
    assert [s.starts_at for s in result] == [local(date(2026, 3, 31), 22)]
    assert slots(one_time=NINE_TO_ONE, horizon_end_at=local(MONDAY, 11)) == slots(
        one_time=one_day(time(9), time(11), 60)
    )


# -- viewer timezone ----------------------------------------------------------------------------

SYDNEY_MONDAY = date(2026, 2, 16)  # AEDT, +11
SYDNEY_WINDOWS = [WeeklyWindow(MON, time(9), time(12), 60), WeeklyWindow(MON, time(15), time(18), 60)]


def test_slots_are_listed_by_the_instructor_dates_by_default() -> None:
    result = slots(weekly=SYDNEY_WINDOWS, tz=SYDNEY, start_on=SYDNEY_MONDAY)
    assert starts(result, SYDNEY) == ["09:00", "10:00", "11:00", "15:00", "16:00", "17:00"]


@pytest.mark.parametrize(
    ("viewer_on", "expected"),
    [
        # Sydney Monday 09:00–12:00 and 15:00 are Sunday evening in New York…
        (date(2026, 2, 15), ["17:00", "18:00", "19:00", "23:00"]),
        # …and 16:00, 17:00 are just after midnight on Monday.
        (date(2026, 2, 16), ["00:00", "01:00"]),
        (date(2026, 2, 14), []),
        (date(2026, 2, 17), []),
    ],
)
def test_viewer_dates_select_slots_by_the_viewer_local_date(viewer_on: date, expected: list[str]) -> None:
    result = slots(weekly=SYDNEY_WINDOWS, tz=SYDNEY, start_on=viewer_on, viewer_tz=NY)
    assert starts(result, NY) == expected


def test_viewer_in_the_same_zone_changes_nothing() -> None:
    assert slots(weekly=SYDNEY_WINDOWS, tz=SYDNEY, start_on=SYDNEY_MONDAY, viewer_tz=SYDNEY) == slots(
        weekly=SYDNEY_WINDOWS, tz=SYDNEY, start_on=SYDNEY_MONDAY
    )


def test_viewer_a_full_day_ahead_still_sees_the_slots() -> None:
    # Kiritimati (+14) and Pago Pago (-11) are 25 hours apart: Monday 23:00 is Wednesday 00:00.
    windows = [WeeklyWindow(d, time(23), time(23, 30), 30) for d in range(1, 8)]
    result = slots(
        weekly=windows, tz="Pacific/Pago_Pago", start_on=date(2026, 3, 4), viewer_tz="Pacific/Kiritimati"
    )
    assert [utc_to_local(s.starts_at, "Pacific/Pago_Pago").date() for s in result] == [date(2026, 3, 2)]
    assert starts(result, "Pacific/Kiritimati") == ["00:00"]


# -- booking checks -----------------------------------------------------------------------------

SAME_KWARGS: dict[str, Any] = {"weekly": (), "blocks": (), "busy": (), "tz": NY, "now": LONG_AGO}


@pytest.mark.parametrize(
    ("starts_at", "minutes", "expected_minutes"),
    [
        (local(MONDAY, 10), 60, 60),
        (local(MONDAY, 10), None, 60),
        (local(MONDAY, 9), None, 30),
        (local(MONDAY, 9), 60, 60),
        (local(MONDAY, 9, 30), 30, 30),
        (local(MONDAY, 9, 30), 60, None),
        (local(MONDAY, 10), 30, None),
        (local(MONDAY, 10, 15), None, None),
        (local(MONDAY, 13), None, None),
    ],
)
def test_is_open_slot_finds_the_exact_slot(
    starts_at: datetime, minutes: int | None, expected_minutes: int | None
) -> None:
    one_time = one_day(time(9), time(13), 60) + one_day(time(9), time(10), 30)
    found = open_slot(starts_at, minutes, one_time=one_time, **SAME_KWARGS)
    if expected_minutes is None:
        assert found is None
    else:
        assert found == Slot(starts_at, starts_at + timedelta(minutes=expected_minutes), expected_minutes)


def test_is_open_slot_respects_bookings_notice_and_horizon() -> None:
    ten = local(MONDAY, 10)
    kwargs = {**SAME_KWARGS, "one_time": NINE_TO_ONE}
    assert open_slot(ten, 60, **kwargs) is not None
    assert open_slot(ten, 60, **{**kwargs, "busy": [Busy(ten, ten + timedelta(hours=1))]}) is None
    assert (
        open_slot(ten, 60, **{**kwargs, "now": ten - timedelta(minutes=119), "min_notice_minutes": 120})
        is None
    )
    assert open_slot(ten, 60, **{**kwargs, "horizon_end_at": ten}) is None


def test_is_open_slot_finds_the_first_of_two_ambiguous_times_only() -> None:
    kwargs = {**SAME_KWARGS, "one_time": one_day(time(1), time(2), 60, on=FALL_BACK)}
    assert open_slot(z("2026-11-01T05:00Z"), 60, **kwargs) is not None
    assert open_slot(z("2026-11-01T06:00Z"), 60, **kwargs) is None


def test_is_open_slot_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError):
        open_slot(datetime(2026, 3, 2, 10), 60, one_time=NINE_TO_ONE, **{**SAME_KWARGS})


@pytest.mark.parametrize(
    ("start", "end", "blocks", "expected"),
    [
        ((9, 0), (10, 0), [], True),
        ((12, 30), (13, 0), [], True),
        ((14, 30), (15, 30), [], False),
        ((8, 30), (9, 30), [], False),
        # Touching windows of different lengths pool into one stretch of availability.
        ((12, 30), (14, 30), [], True),
        ((15, 0), (16, 0), [], False),
        ((10, 0), (11, 0), [Block(MONDAY, MONDAY, time(10, 30), time(12))], False),
        ((10, 0), (11, 0), [Block(MONDAY, MONDAY, time(11), time(12))], True),
        ((10, 0), (11, 0), [Block(MONDAY, MONDAY)], False),
        ((10, 0), (11, 0), [Block(MONDAY + timedelta(days=1), MONDAY + timedelta(days=1))], True),
    ],
)
def test_covered_by_windows(
    start: tuple[int, int], end: tuple[int, int], blocks: list[Block], expected: bool
) -> None:
    one_time = one_day(time(9), time(13), 60) + one_day(time(13), time(15), 30)
    assert (
        covered(local(MONDAY, *start), local(MONDAY, *end), one_time=one_time, blocks=blocks, tz=NY)
        is expected
    )


def test_covered_by_windows_uses_weekly_windows_and_their_dates() -> None:
    window = WeeklyWindow(MON, time(9), time(12), 60, effective_until=MONDAY)
    kwargs: dict[str, Any] = {"weekly": [window], "one_time": (), "blocks": (), "tz": NY}
    assert covered(local(MONDAY, 9), local(MONDAY, 10), **kwargs)
    next_monday = MONDAY + timedelta(days=7)
    assert not covered(local(next_monday, 9), local(next_monday, 10), **kwargs)


# -- arguments ----------------------------------------------------------------------------------


def test_generate_slots_refuses_naive_instants_and_negative_minutes() -> None:
    with pytest.raises(ValueError):
        slots(one_time=NINE_TO_ONE, now=datetime(2026, 3, 1))
    with pytest.raises(ValueError):
        slots(one_time=NINE_TO_ONE, busy=[Busy(datetime(2026, 3, 2, 10), datetime(2026, 3, 2, 11))])
    with pytest.raises(ValueError):
        slots(one_time=NINE_TO_ONE, buffer_minutes=-5)
    with pytest.raises(ValueError):
        slots(one_time=NINE_TO_ONE, tz="Nowhere/Special")


def test_an_empty_date_range_gives_no_slots() -> None:
    assert slots(one_time=NINE_TO_ONE, start_on=MONDAY, end_on=MONDAY - timedelta(days=1)) == []


# -- properties ---------------------------------------------------------------------------------

ZONES = [NY, SYDNEY, "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "America/Santiago", "UTC"]
# Days around DST changes in those zones, plus a quiet one.
FIRST_DAYS = [
    date(2026, 3, 7),
    date(2026, 3, 28),
    date(2026, 4, 4),
    date(2026, 9, 5),
    date(2026, 10, 3),
    date(2026, 10, 24),
    date(2026, 10, 31),
    date(2026, 6, 15),
]
LENGTHS = [15, 30, 45, 60, 90]


@st.composite
def wall_spans(draw: st.DrawFn) -> tuple[time, time]:
    start = draw(st.integers(0, 94))
    end = draw(st.integers(start + 1, 95))
    return time(start // 4, start % 4 * 15), time(end // 4, end % 4 * 15)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    first = draw(st.sampled_from(FIRST_DAYS))
    tz = draw(st.sampled_from(ZONES))
    near = st.integers(-1, 4).map(lambda n: first + timedelta(days=n))
    weekly = [
        WeeklyWindow(
            draw(st.integers(1, 7)),
            *draw(wall_spans()),
            draw(st.sampled_from(LENGTHS)),
            draw(st.none() | near),
            draw(st.none() | near),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    one_time = [
        OneTimeWindow(draw(near), *draw(wall_spans()), draw(st.sampled_from(LENGTHS)))
        for _ in range(draw(st.integers(0, 3)))
    ]
    blocks = []
    for _ in range(draw(st.integers(0, 2))):
        start_on = draw(near)
        end_on = start_on + timedelta(days=draw(st.integers(0, 2)))
        if draw(st.booleans()):
            blocks.append(Block(start_on, end_on))
        else:
            blocks.append(Block(start_on, end_on, *draw(wall_spans())))
    base = local_date_range_to_utc(first, first, tz)[0]
    busy = []
    for _ in range(draw(st.integers(0, 6))):
        begins = base + timedelta(minutes=5 * draw(st.integers(-300, 1500)))
        busy.append(Busy(begins, begins + timedelta(minutes=draw(st.sampled_from([15, 30, 60, 120])))))
    now = base + timedelta(minutes=15 * draw(st.integers(-100, 300)))
    return {
        "weekly": weekly,
        "one_time": one_time,
        "blocks": blocks,
        "busy": busy,
        "tz": tz,
        "start_on": first,
        "end_on": first + timedelta(days=draw(st.integers(0, 3))),
        "now": now,
        "buffer_minutes": draw(st.sampled_from([0, 5, 15])),
        "min_notice_minutes": draw(st.sampled_from([0, 60, 120])),
        "horizon_end_at": draw(st.none() | st.just(now + timedelta(days=2))),
        "viewer_tz": draw(st.none() | st.sampled_from(ZONES)),
    }


def _earliest_and_latest(on: date, at: time, tz: str) -> tuple[datetime, datetime]:
    """Return the two readings of a wall time (equal unless it is in a gap or ambiguous)."""
    readings = [
        datetime.combine(on, at).replace(tzinfo=ZoneInfo(tz), fold=fold).astimezone(UTC) for fold in (0, 1)
    ]
    return min(readings), max(readings)


def _block_core(block: Block, tz: str) -> list[tuple[datetime, datetime]]:
    """Return intervals certainly inside the block, however gaps and ambiguities are read."""
    if block.start_time is None or block.end_time is None:
        return [local_date_range_to_utc(block.start_on, block.end_on, tz)]
    cores = []
    on = block.start_on
    while on <= block.end_on:
        cores.append(
            (
                _earliest_and_latest(on, block.start_time, tz)[1],
                _earliest_and_latest(on, block.end_time, tz)[0],
            )
        )
        on += timedelta(days=1)
    return cores


def _lies_in_a_window(slot: Slot, scenario: dict[str, Any]) -> bool:
    tz = scenario["tz"]
    wall = utc_to_local(slot.starts_at, tz)
    on = wall.date()
    spans = sorted(
        (w.start_time, w.end_time)
        for w in [*scenario["weekly"], *scenario["one_time"]]
        if w.lesson_minutes == slot.lesson_minutes
        and (w.applies_on(on) if isinstance(w, WeeklyWindow) else w.occurs_on == on)
    )
    merged: list[list[time]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    wall_end = (datetime.combine(on, wall.time()) + timedelta(minutes=slot.lesson_minutes)).time()
    return any(
        start <= wall.time()
        and wall.time() < wall_end <= end
        and slot.ends_at <= _earliest_and_latest(on, end, tz)[1]
        for start, end in merged
    )


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_every_offered_slot_is_really_open(scenario: dict[str, Any]) -> None:
    result = generate(**scenario)
    buffer = timedelta(minutes=scenario["buffer_minutes"])
    earliest = scenario["now"] + timedelta(minutes=scenario["min_notice_minutes"])
    shown_in = scenario["viewer_tz"] or scenario["tz"]
    assert result == sorted(set(result), key=lambda s: (s.starts_at, s.ends_at, s.lesson_minutes))
    for slot in result:
        assert slot.starts_at.tzinfo is UTC and slot.ends_at.tzinfo is UTC
        assert slot.ends_at - slot.starts_at == timedelta(minutes=slot.lesson_minutes)
        assert scenario["start_on"] <= utc_to_local(slot.starts_at, shown_in).date() <= scenario["end_on"]
        assert slot.starts_at >= earliest
        assert scenario["horizon_end_at"] is None or slot.starts_at < scenario["horizon_end_at"]
        assert _lies_in_a_window(slot, scenario)
        for busy in scenario["busy"]:
            assert slot.ends_at <= busy.starts_at - buffer or slot.starts_at >= busy.ends_at + buffer
        for block in scenario["blocks"]:
            for start, end in _block_core(block, scenario["tz"]):
                assert slot.ends_at <= start or slot.starts_at >= end
    by_length: dict[int, list[Slot]] = {}
    for slot in result:
        by_length.setdefault(slot.lesson_minutes, []).append(slot)
    for same in by_length.values():
        for before, after in zip(same, same[1:], strict=False):
            assert before.ends_at + buffer <= after.starts_at


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_removing_slots_never_shifts_the_others(scenario: dict[str, Any]) -> None:
    everything = {
        **scenario,
        "blocks": [],
        "busy": [],
        "min_notice_minutes": 0,
        "now": scenario["now"] - timedelta(days=30),
        "horizon_end_at": None,
    }
    assert set(generate(**scenario)) <= set(generate(**everything))


@contextmanager
def process_timezone(name: str) -> Iterator[None]:
    previous = os.environ.get("TZ")
    os.environ["TZ"] = name
    process_time.tzset()
    try:
        yield
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        process_time.tzset()


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_results_do_not_depend_on_the_process_timezone(scenario: dict[str, Any]) -> None:
    with process_timezone("Pacific/Kiritimati"):
        far_east = generate(**scenario)
    with process_timezone("America/Los_Angeles"):
        west_coast = generate(**scenario)
    assert far_east == west_coast


# -- the engine against a naive reference -------------------------------------------------------


def _naive(**arguments: Any) -> list[Slot]:
    schedule, rest = split(arguments)
    return naive_slots(schedule, **rest)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_the_engine_gives_exactly_what_a_naive_reference_gives(scenario: dict[str, Any]) -> None:
    assert generate(**scenario) == _naive(**scenario)


@st.composite
def dense_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Long windows of one or two lengths, many bookings on and off the grid, buffers: the month-rush shape."""
    scenario = draw(scenarios())
    tz = scenario["tz"]
    first = scenario["start_on"]
    lengths = draw(st.lists(st.sampled_from(LENGTHS), min_size=1, max_size=2, unique=True))
    scenario["weekly"] = [
        WeeklyWindow(day, time(draw(st.integers(0, 8))), time(draw(st.integers(16, 23)), 45), minutes)
        for day in range(1, 8)
        for minutes in lengths
    ]
    base = local_date_range_to_utc(first, first, tz)[0]
    scenario["busy"] = [
        Busy(begins, begins + timedelta(minutes=draw(st.sampled_from([5, 15, 30, 60, 90]))))
        for begins in (base + timedelta(minutes=5 * draw(st.integers(-300, 1500))) for _ in range(draw(st.integers(0, 60))))
    ]
    return scenario


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=dense_scenarios())
def test_dense_schedules_give_exactly_what_a_naive_reference_gives(scenario: dict[str, Any]) -> None:
    assert generate(**scenario) == _naive(**scenario)


@pytest.mark.parametrize("tz", [NY, SYDNEY, "Europe/London", "America/Santiago", "Australia/Lord_Howe", "Pacific/Apia"])
@pytest.mark.parametrize("first", [date(2026, 3, 1), date(2026, 4, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1),
                                   date(2011, 12, 28)])
def test_whole_months_around_clock_changes_match_the_naive_reference(tz: str, first: date) -> None:
    arguments: dict[str, Any] = {
        "weekly": [WeeklyWindow(day, time(0), time(23, 45), 45) for day in range(1, 8)]
        + [WeeklyWindow(day, time(1), time(4), 20) for day in range(1, 8)],
        "busy": [Busy(local(first, 0, tz=tz) + timedelta(hours=7 * i), local(first, 0, tz=tz) + timedelta(hours=7 * i, minutes=50))
                 for i in range(100)],
        "tz": tz, "start_on": first, "end_on": first + timedelta(days=30), "now": LONG_AGO, "buffer_minutes": 10,
    }
    assert generate(**arguments) == _naive(**arguments)
    assert generate(**arguments, viewer_tz="Asia/Kolkata") == _naive(**arguments, viewer_tz="Asia/Kolkata")
