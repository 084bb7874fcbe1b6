"""Compute open lesson slots from availability windows, blocks and bookings."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from booking_app.domain.timeutil import (
    EPOCH,
    ONE_DAY,
    ONE_MICROSECOND,
    ensure_utc,
    first_instant_at_or_after,
    from_micros,
    local_date_range_to_utc,
    resolve_wall,
    start_of_day,
    to_micros,
    utc_to_local,
    zone,
)

MIN_LESSON_MINUTES = 5
MAX_LESSON_MINUTES = 480
_MINUTE = 60_000_000  # microseconds
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_HORIZON_MONTHS = {"end_of_month": 1, "end_of_next_month": 2}


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """A recurring weekly window of wall-clock time in the instructor's timezone."""

    weekday: int  # ISO: 1 = Monday … 7 = Sunday
    start_time: time
    end_time: time
    lesson_minutes: int
    effective_from: date | None = None  # inclusive
    effective_until: date | None = None  # inclusive

    def applies_on(self, on: date) -> bool:
        """Return whether this window opens on the local date on."""
        return (
            on.isoweekday() == self.weekday
            and (self.effective_from is None or self.effective_from <= on)
            and (self.effective_until is None or on <= self.effective_until)
        )


@dataclass(frozen=True, slots=True)
class OneTimeWindow:
    """A window of wall-clock time on one local date."""

    occurs_on: date
    start_time: time
    end_time: time
    lesson_minutes: int


@dataclass(frozen=True, slots=True)
class Block:
    """Local dates (whole days, or the same times on each date) when the instructor is away."""

    start_on: date
    end_on: date  # inclusive
    start_time: time | None = None
    end_time: time | None = None


@dataclass(frozen=True, slots=True)
class Busy:
    """The time of an active (pending-not-expired or confirmed) booking."""

    starts_at: datetime
    ends_at: datetime


class Slot(NamedTuple):
    """An open lesson slot (a named tuple: a month holds thousands, and a tuple is built in a fifth of the time)."""

    starts_at: datetime
    ends_at: datetime
    lesson_minutes: int


@dataclass(frozen=True, slots=True)
class Schedule:
    """One instructor's bookable time: windows and blocks in their zone, and the rules that trim the slots."""

    tz: str
    weekly: Sequence[WeeklyWindow] = ()
    one_time: Sequence[OneTimeWindow] = ()
    blocks: Sequence[Block] = ()
    buffer_minutes: int = 0
    min_notice_minutes: int = 0
    horizon_end_at: datetime | None = None  # the first instant students may no longer book; None: no horizon


class InvalidWindow(ValueError):
    """A window or block a user entered that cannot be used; the message is a sentence for them."""


class InvalidBlock(InvalidWindow):
    """A block a user entered that cannot be used; the message is a sentence for them."""


def _micros_of_day(at: time) -> int:
    return ((at.hour * 60 + at.minute) * 60 + at.second) * 1_000_000 + at.microsecond


def _check_wall_time(at: time, error: type[InvalidWindow]) -> None:
    if at.tzinfo is not None:
        raise error("Times must be wall-clock times without a timezone.")
    if at.second or at.microsecond:
        raise error("Times must be whole minutes, such as 09:00 or 14:15.")


def validate_window(start_time: time, end_time: time, lesson_minutes: int) -> None:
    """Raise InvalidWindow unless the window can hold at least one lesson of its length."""
    if (
        isinstance(lesson_minutes, bool)
        or not isinstance(lesson_minutes, int)
        or not MIN_LESSON_MINUTES <= lesson_minutes <= MAX_LESSON_MINUTES
    ):
        raise InvalidWindow(
            f"The lesson length must be between {MIN_LESSON_MINUTES} and {MAX_LESSON_MINUTES} minutes."
        )
    _check_wall_time(start_time, InvalidWindow)
    _check_wall_time(end_time, InvalidWindow)
    # A window never crosses midnight, and 00:00 cannot mean "end of day": split such a window in two.
    if end_time <= start_time:
        raise InvalidWindow("The end time must be after the start time on the same day.")
    if _micros_of_day(end_time) - _micros_of_day(start_time) < lesson_minutes * _MINUTE:
        raise InvalidWindow(f"The window is shorter than one {lesson_minutes}-minute lesson.")


def validate_block(start_on: date, end_on: date, start_time: time | None, end_time: time | None) -> None:
    """Raise InvalidBlock (an InvalidWindow) unless the block names a usable range of dates and times."""
    if end_on < start_on:
        raise InvalidBlock("The end date must be on or after the start date.")
    if (start_time is None) != (end_time is None):
        raise InvalidBlock("Give both a start and an end time, or neither to block whole days.")
    if start_time is not None and end_time is not None:
        _check_wall_time(start_time, InvalidBlock)
        _check_wall_time(end_time, InvalidBlock)
        if end_time <= start_time:
            raise InvalidBlock("The end time must be after the start time on the same day.")


class _Intervals:
    """Sorted, merged half-open integer intervals answering overlap and containment by bisection."""

    __slots__ = ("starts", "ends")

    def __init__(self, pairs: Iterable[tuple[int, int]]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(p for p in pairs if p[0] < p[1]):
            # Merging touching intervals too is safe: anything overlapping the union overlaps a part.
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_left(self.starts, end)
        return i > 0 and self.ends[i - 1] > start

    def contains(self, start: int, end: int) -> bool:
        i = bisect_right(self.starts, start)
        return i > 0 and self.ends[i - 1] >= end


@lru_cache(maxsize=8192)
def _steady_offset(on: date, tz: ZoneInfo) -> int | None:
    """Return the day's UTC offset in microseconds if it has no transition, else None."""
    # One offset at both ends of the day, under both folds, means no transition that day (two that
    # cancel out within a day do not occur in tzdata), so plain arithmetic is exact. Both folds are
    # needed to notice a gap or repeat touching either end, or a day wholly in a gap (Samoa 2011-12-30).
    offsets = {
        tz.utcoffset(datetime.combine(on, at).replace(fold=fold))
        for at in (time.min, time.max)
        for fold in (0, 1)
    }
    only = offsets.pop()
    return None if offsets or only is None else only // timedelta(microseconds=1)


class _LocalDay:
    """Wall-clock to UTC conversion for one local date, in integer microseconds."""

    __slots__ = ("on", "tz", "midnight", "offset")

    def __init__(self, on: date, tz: ZoneInfo) -> None:
        self.on = on
        self.tz = tz
        self.midnight = (on.toordinal() - _EPOCH_ORDINAL) * 86_400_000_000
        self.offset = _steady_offset(on, tz)

    def _naive(self, micros_of_day: int) -> datetime:
        return datetime.combine(self.on, time.min) + timedelta(microseconds=micros_of_day)

    def strict(self, micros_of_day: int) -> int | None:
        """Return the UTC instant of a wall time; None in a gap; the first one when ambiguous."""
        if self.offset is not None:
            return self.midnight + micros_of_day - self.offset
        instant = resolve_wall(self._naive(micros_of_day), self.tz)
        return None if instant is None else to_micros(instant)

    def lenient(self, micros_of_day: int) -> int:
        """Return the first UTC instant at or after a wall time (a gap moves to its end)."""
        if self.offset is not None:
            return self.midnight + micros_of_day - self.offset
        return to_micros(first_instant_at_or_after(self._naive(micros_of_day), self.tz))


def _days(first: date, last: date) -> Iterator[date]:
    on = first
    while on <= last:
        yield on
        on += ONE_DAY


def _merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        # Touching windows merge too, so 09:00–12:00 plus 12:00–14:00 is one grid from 09:00.
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class _Availability:
    """Windows indexed by weekday and by date, answering which windows open on a local date."""

    def __init__(self, weekly: Sequence[WeeklyWindow], one_time: Sequence[OneTimeWindow]) -> None:
        self.weekly: dict[int, list[WeeklyWindow]] = defaultdict(list)
        for window in weekly:
            self.weekly[window.weekday].append(window)
        self.one_time: dict[date, list[OneTimeWindow]] = defaultdict(list)
        for extra in one_time:
            self.one_time[extra.occurs_on].append(extra)

    def on(self, day: date) -> list[tuple[int, int, int]]:
        """Return (lesson_minutes, start, end) of each window opening on day, in microseconds of day."""
        found = [
            (w.lesson_minutes, _micros_of_day(w.start_time), _micros_of_day(w.end_time))
            for w in self.weekly.get(day.isoweekday(), ())
            if w.applies_on(day)
        ]
        found.extend(
            (w.lesson_minutes, _micros_of_day(w.start_time), _micros_of_day(w.end_time))
            for w in self.one_time.get(day, ())
        )
        return [w for w in found if w[1] < w[2] and w[0] > 0]

    def merged_by_length(self, day: date) -> dict[int, list[tuple[int, int]]]:
        """Return the day's windows grouped by lesson length, overlapping and touching ones merged."""
        groups: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for minutes, start, end in self.on(day):
            groups[minutes].append((start, end))
        return {minutes: _merge(spans) for minutes, spans in groups.items()}


def _block_intervals(blocks: Sequence[Block], tz: str, first: date, last: date) -> _Intervals:
    tzinfo = zone(tz)
    pairs: list[tuple[int, int]] = []
    for block in blocks:
        if block.start_time is None or block.end_time is None:
            # A whole-day block covers [local midnight, next local midnight) of every date in it.
            start_at, end_at = local_date_range_to_utc(block.start_on, block.end_on, tz)
            pairs.append((to_micros(start_at), to_micros(end_at)))
            continue
        # Timed blocks repeat on each date; only dates that can touch the computed days matter, so a
        # year-long block costs no more than a one-day one.
        begin = _micros_of_day(block.start_time)
        finish = _micros_of_day(block.end_time)
        for on in _days(max(block.start_on, first), min(block.end_on, last)):
            day = _LocalDay(on, tzinfo)
            pairs.append((day.lenient(begin), day.lenient(finish)))
    return _Intervals(pairs)


def _removed_intervals(
    blocks: Sequence[Block], busy: Sequence[Busy], tz: str, buffer_minutes: int, first: date, last: date
) -> _Intervals:
    pad = buffer_minutes * _MINUTE
    # Bookings come from UTC columns: convert those directly (ensure_utc checks and converts the rest).
    pairs = [
        (
            ((s if s.tzinfo is UTC else ensure_utc(s)) - EPOCH) // ONE_MICROSECOND - pad,
            ((e if e.tzinfo is UTC else ensure_utc(e)) - EPOCH) // ONE_MICROSECOND + pad,
        )
        for s, e in ((b.starts_at, b.ends_at) for b in busy)
    ]
    blocked = _block_intervals(blocks, tz, first, last)
    pairs.extend(zip(blocked.starts, blocked.ends, strict=True))
    return _Intervals(pairs)


def _check_minutes(**values: int) -> None:
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}.")


def _grid(
    day: _LocalDay, window_start: int, window_end: int, minutes: int, buffer_minutes: int
) -> Iterator[tuple[int, int]]:
    """Yield (start, end) UTC microseconds of each slot the merged window is cut into."""
    length = minutes * _MINUTE
    step = (minutes + buffer_minutes) * _MINUTE
    buffer = buffer_minutes * _MINUTE
    latest_end = day.lenient(window_end)
    previous_end: int | None = None
    wall = window_start
    while wall + length <= window_end:
        start = day.strict(wall)
        wall += step
        if start is None:
            continue  # a wall time in a spring-forward gap has no slot
        end = start + length
        # Only on a transition day can the absolute length disagree with the wall clock: a slot must
        # still end by the window's real end, and must not eat into the previous slot or its buffer.
        if end > latest_end or (previous_end is not None and start < previous_end + buffer):
            continue
        previous_end = end
        yield start, end


_new_tuple = tuple.__new__
# Offsets in tzdata (local mean times included) differ by less than 31 hours: three days from a range's
# ends, an instant's local date is certainly inside the range.
_SURE_MARGIN = timedelta(days=3)


def _emit_steady(
    out: list[Slot],
    base: int,
    count: int,
    length: int,
    step: int,
    minutes: int,
    bounds: tuple[int, int | None],
    removed: _Intervals,
) -> None:
    """Append the free slots base + k·step (k < count) of a day without a clock change, in order.

    Busy and blocked intervals are walked in order: a run of free slots before the next interval is
    produced by datetime addition alone, and the slots an interval overlaps are skipped by arithmetic.
    """
    earliest, latest = bounds
    k = 0 if base >= earliest else -((base - earliest) // step)  # the first start at or after earliest
    if latest is not None:
        count = min(count, (latest - base - 1) // step + 1)  # starts before latest only
    if k >= count:
        return
    starts, ends = removed.starts, removed.ends
    total = len(ends)
    j = bisect_right(ends, base + k * step)
    length_td = timedelta(microseconds=length)
    step_td = timedelta(microseconds=step)
    append = out.append
    while k < count:
        start = base + k * step
        while j < total and ends[j] <= start:
            j += 1
        # Slots ending by the next removed interval's start are free.
        free_until = count if j == total else min(count, (starts[j] - length - base) // step + 1)
        if free_until > k:
            at = from_micros(start)
            for _ in range(free_until - k):
                append(_new_tuple(Slot, (at, at + length_td, minutes)))
                at += step_td
            k = free_until
            if k >= count:
                return
            start = base + k * step
        if start < ends[j]:
            # This slot overlaps interval j: jump to the first start at or after its end.
            k = max(k + 1, -((base - ends[j]) // step))
            j += 1


def generate_slots(
    schedule: Schedule,
    *,
    busy: Sequence[Busy],
    start_on: date,
    end_on: date,
    now: datetime,
    viewer_tz: str | None = None,
) -> list[Slot]:
    """Return the open slots whose start falls on start_on..end_on (inclusive, local dates in viewer_tz or tz), sorted."""
    tz, buffer_minutes, min_notice_minutes = schedule.tz, schedule.buffer_minutes, schedule.min_notice_minutes
    horizon_end_at = schedule.horizon_end_at
    tzinfo = zone(tz)
    _check_minutes(buffer_minutes=buffer_minutes, min_notice_minutes=min_notice_minutes)
    earliest = to_micros(ensure_utc(now)) + min_notice_minutes * _MINUTE
    latest = None if horizon_end_at is None else to_micros(ensure_utc(horizon_end_at))
    if end_on < start_on:
        return []

    viewer: ZoneInfo | None = None
    first, last = start_on, end_on
    range_start = range_end = EPOCH
    if viewer_tz is not None and viewer_tz != tz:
        viewer = zone(viewer_tz)
        # Offsets differ by up to 26 hours, so find the instructor's dates from the viewer's range in
        # UTC; a day's margin each side covers zones whose clocks go back across midnight.
        range_start, range_end = local_date_range_to_utc(start_on, end_on, viewer_tz)
        first = utc_to_local(range_start, tz).date() - ONE_DAY
        last = utc_to_local(range_end, tz).date() + ONE_DAY

    availability = _Availability(schedule.weekly, schedule.one_time)
    # Blocks and (buffered) bookings both only remove slots: one merged list of intervals serves both.
    removed = _removed_intervals(schedule.blocks, busy, tz, buffer_minutes, first - ONE_DAY, last + ONE_DAY)
    bounds = (earliest, latest)

    slots: list[Slot] = []
    day_slots: list[Slot] = []
    day_first, ordered = 0, True
    for on in _days(first, last):
        groups = availability.merged_by_length(on)
        if not groups:
            continue
        day = _LocalDay(on, tzinfo)
        # One lesson length gives slots in order; several are merged by start (then length) per day,
        # and every start falls on its own local date, so days never interleave.
        out = slots if len(groups) == 1 else day_slots
        for minutes, windows in groups.items():
            length = minutes * _MINUTE
            step = (minutes + buffer_minutes) * _MINUTE
            for window_start, window_end in windows:
                if day.offset is not None:
                    count = (window_end - window_start - length) // step + 1
                    if count > 0:
                        base = day.midnight - day.offset + window_start
                        _emit_steady(out, base, count, length, step, minutes, bounds, removed)
                    continue
                for start, end in _grid(day, window_start, window_end, minutes, buffer_minutes):
                    # Filters only remove slots; the grid above never depends on them.
                    if start < earliest or (latest is not None and start >= latest) or removed.overlaps(start, end):
                        continue
                    out.append(_new_tuple(Slot, (from_micros(start), from_micros(end), minutes)))
        if day_slots:
            day_slots.sort()
            slots.extend(day_slots)
            day_slots.clear()
        if slots and len(slots) > day_first:
            # A clock going back across midnight could in principle start a day before the last one ended.
            ordered = ordered and (day_first == 0 or slots[day_first - 1] < slots[day_first])
            day_first = len(slots)

    if not ordered:
        slots.sort()
    if viewer is not None:
        sure_start, sure_end = range_start + _SURE_MARGIN, range_end - _SURE_MARGIN
        # Far from the range's ends the local date is certainly inside; near them it is read exactly
        # (a clock going back across midnight can move a date backwards).
        slots = [
            s for s in slots
            if sure_start <= s.starts_at < sure_end or start_on <= s.starts_at.astimezone(viewer).date() <= end_on
        ]
    return slots


def is_open_slot(
    schedule: Schedule, starts_at: datetime, lesson_minutes: int | None, *, busy: Sequence[Busy], now: datetime
) -> Slot | None:
    """Return the open slot starting exactly at starts_at (and of that length if given), else None."""
    starts_at = ensure_utc(starts_at)
    on = utc_to_local(starts_at, schedule.tz).date()
    for slot in generate_slots(schedule, busy=busy, start_on=on, end_on=on, now=now):
        # Slots come sorted by end, so without a length the shortest lesson at that start wins.
        if slot.starts_at == starts_at and lesson_minutes in (None, slot.lesson_minutes):
            return slot
    return None


def covered_by_windows(schedule: Schedule, starts_at: datetime, ends_at: datetime) -> bool:
    """Return whether the interval lies inside the schedule's windows (any lesson length) and overlaps no block."""
    tz = schedule.tz
    start = to_micros(ensure_utc(starts_at))
    end = to_micros(ensure_utc(ends_at))
    first = utc_to_local(starts_at, tz).date() - ONE_DAY
    last = utc_to_local(ends_at, tz).date() + ONE_DAY
    tzinfo = zone(tz)
    availability = _Availability(schedule.weekly, schedule.one_time)
    spans: list[tuple[int, int]] = []
    for on in _days(first, last):
        day = _LocalDay(on, tzinfo)
        # Lengths are pooled here: a pending request stays valid while its time is still offered at
        # all, so changing only a window's lesson length never declines it.
        spans.extend((day.lenient(s), day.lenient(e)) for _, s, e in availability.on(on))
    if not _Intervals(spans).contains(start, end):
        return False
    return not _block_intervals(schedule.blocks, tz, first, last).overlaps(start, end)


def horizon_end_at(policy: str, days: int | None, now: datetime, tz: str) -> datetime:
    """Return the first instant after the booking horizon for a studio policy, as UTC."""
    now = ensure_utc(now)
    if policy == "days":
        if days is None or isinstance(days, bool) or days < 1:
            raise ValueError("A rolling horizon needs a whole number of days of at least 1.")
        return now + timedelta(days=days)
    months = _HORIZON_MONTHS.get(policy)
    if months is None:
        raise ValueError(f"Unknown horizon policy {policy!r}.")
    today = utc_to_local(now, tz).date()
    month_index = today.year * 12 + today.month - 1 + months
    return start_of_day(date(month_index // 12, month_index % 12 + 1, 1), tz)
