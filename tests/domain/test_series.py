"""Weekly series: the same local wall-clock time every week across DST, and why a week is skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking_app.domain.series import Skip, classify_weeks, wall_start, week_starts
from booking_app.domain.slots import Block, Busy, Schedule, WeeklyWindow

NY = "America/New_York"
LONDON = "Europe/London"
NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "first_on", "at", "offsets"),
    [
        # New York springs forward on Sunday 8 March 2026: 17:00 EST is 22:00 UTC, 17:00 EDT is 21:00 UTC.
        (NY, date(2026, 2, 24), time(17), [22, 22, 21, 21]),
        # London falls back on Sunday 25 October 2026: 09:00 BST is 08:00 UTC, 09:00 GMT is 09:00 UTC.
        (LONDON, date(2026, 10, 13), time(9), [8, 8, 9, 9]),
        # A zone without DST: the UTC hour never moves.
        ("Asia/Tokyo", date(2026, 3, 3), time(18), [9, 9, 9, 9]),
    ],
)
def test_every_week_is_at_the_same_local_time_across_a_daylight_saving_change(tz, first_on, at, offsets):
    starts = week_starts(first_on, at, tz, 4)
    assert [on for on, _ in starts] == [first_on + timedelta(weeks=k) for k in range(4)]
    assert [s.hour for _, s in starts] == offsets
    assert all(s.astimezone(ZoneInfo(tz)).time() == at for _, s in starts)


def test_a_local_time_in_the_spring_forward_gap_does_not_exist_that_week():
    # 02:30 on Sunday 8 March 2026 never happens in New York.
    starts = week_starts(date(2026, 3, 1), time(2, 30), NY, 3)
    assert starts[1] == (date(2026, 3, 8), None)
    assert starts[0][1] is not None and starts[2][1] is not None


def test_an_ambiguous_local_time_means_its_first_occurrence():
    # 01:30 on Sunday 1 November 2026 happens twice in New York: the first is 05:30 UTC (EDT).
    starts = week_starts(date(2026, 10, 25), time(1, 30), NY, 2)
    assert starts[1][1] == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_the_wall_start_is_read_in_the_instructors_zone():
    assert wall_start(datetime(2026, 3, 10, 21, 0, tzinfo=UTC), NY) == (date(2026, 3, 10), time(17))


def _schedule(**kw) -> Schedule:
    base = {
        "tz": NY,
        "weekly": (WeeklyWindow(2, time(9), time(19), 60),),  # Tuesdays
        "min_notice_minutes": 120,
        # A horizon at the end of February: a series may reach past it.
        "horizon_end_at": datetime(2026, 3, 1, 5, tzinfo=UTC),
    }
    base.update(kw)
    return Schedule(**base)


def _classify(schedule: Schedule, first_on=date(2026, 2, 3), at=time(17), weeks=6, **kw):
    starts = week_starts(first_on, at, schedule.tz, weeks)
    options = {"busy": (), "student_busy": (), "now": NOW, "by_staff": False}
    options.update(kw)
    return classify_weeks(schedule, starts, 60, **options)


def test_every_week_of_an_open_series_is_open_even_past_the_booking_horizon():
    weeks = _classify(_schedule())
    assert [w.skip for w in weeks] == [None] * 6
    assert weeks[-1].starts_at > datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "week", "reason"),
    [
        ({"blocks": (Block(date(2026, 2, 17), date(2026, 2, 17)),)}, 2, Skip.BLOCKED),
        (
            {"blocks": (Block(date(2026, 2, 24), date(2026, 2, 24), time(16, 30), time(17, 30)),)},
            3,
            Skip.BLOCKED,
        ),
        (
            {
                "busy": (
                    Busy(datetime(2026, 2, 10, 22, 30, tzinfo=UTC), datetime(2026, 2, 10, 23, tzinfo=UTC)),
                )
            },
            1,
            Skip.TAKEN,
        ),
        (
            {
                "student_busy": (
                    Busy(datetime(2026, 3, 3, 22, tzinfo=UTC), datetime(2026, 3, 3, 23, tzinfo=UTC)),
                )
            },
            4,
            Skip.STUDENT_BUSY,
        ),
        (
            {"weekly": (WeeklyWindow(2, time(9), time(19), 60, effective_until=date(2026, 2, 20)),)},
            3,
            Skip.UNAVAILABLE,
        ),
        ({"now": datetime(2026, 2, 3, 21, tzinfo=UTC)}, 0, Skip.TOO_SOON),
    ],
)
def test_a_week_that_is_not_open_is_skipped_with_its_reason(change, week, reason):
    schedule_keys = {"blocks", "weekly"}
    schedule = _schedule(**{k: v for k, v in change.items() if k in schedule_keys})
    weeks = _classify(schedule, **{k: v for k, v in change.items() if k not in schedule_keys})
    assert weeks[week].skip is reason
    others = [
        w.skip for i, w in enumerate(weeks) if i != week and (reason is not Skip.UNAVAILABLE or i < week)
    ]
    assert others == [None] * len(others)


def test_staff_ignore_the_minimum_notice_but_never_book_the_past():
    now = datetime(2026, 2, 3, 21, 30, tzinfo=UTC)  # 16:30 in New York, half an hour before the first lesson
    assert _classify(_schedule(), now=now, by_staff=True)[0].skip is None
    assert _classify(_schedule(), now=now, by_staff=False)[0].skip is Skip.TOO_SOON
    started = datetime(2026, 2, 3, 22, 10, tzinfo=UTC)
    assert _classify(_schedule(), now=started, by_staff=True)[0].skip is Skip.TOO_SOON


def test_a_week_across_the_spring_change_keeps_its_slot_and_a_gap_week_is_unavailable():
    # Sundays 01:00–04:00 at 02:30 (after a 02:00 window start, 30-minute lessons).
    schedule = _schedule(weekly=(WeeklyWindow(7, time(1), time(4), 30),), min_notice_minutes=0)
    starts = week_starts(date(2026, 3, 1), time(2, 30), NY, 3)
    weeks = classify_weeks(schedule, starts, 30, busy=(), student_busy=(), now=NOW, by_staff=False)
    assert [w.skip for w in weeks] == [None, Skip.UNAVAILABLE, None]
