"""A deliberately naive slot generator: the reference the engine is compared with (tests and bench/slot_engine.py).

It follows the rules of booking_app.domain.slots.generate_slots word for word, but with aware datetimes,
one zoneinfo conversion per wall time, a linear scan of every booking and block for every slot, and
instructor dates three days wider than the viewer's range: slow and obvious, sharing no code with the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking_app.domain.slots import Block, Busy, OneTimeWindow, Schedule, Slot, WeeklyWindow

ONE_DAY = timedelta(days=1)
ONE_SECOND = timedelta(seconds=1)


def _wall_of(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _exact(wall: datetime, tz: ZoneInfo) -> datetime | None:
    """The instant showing this wall clock first; None when the clock skips it."""
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    return instant if _wall_of(instant, tz) == wall else None


def _at_or_after(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first instant whose wall clock reads wall or later (a skipped time moves to the skip's end)."""
    instant = _exact(wall, tz)
    if instant is not None:
        return instant
    candidate = min(wall.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1))
    while _wall_of(candidate, tz) < wall:  # walk the skip: minutes, then back by seconds
        candidate += timedelta(minutes=1)
    while _wall_of(candidate - ONE_SECOND, tz) >= wall:
        candidate -= ONE_SECOND
    micro = candidate - timedelta(microseconds=1)
    return candidate if _wall_of(micro, tz) < wall else micro


def _windows_on(on: date, weekly: Sequence[WeeklyWindow], one_time: Sequence[OneTimeWindow]) -> dict[int, list[list[time]]]:
    spans: dict[int, list[tuple[time, time]]] = {}
    for w in weekly:
        if w.applies_on(on) and w.start_time < w.end_time:
            spans.setdefault(w.lesson_minutes, []).append((w.start_time, w.end_time))
    for o in one_time:
        if o.occurs_on == on and o.start_time < o.end_time:
            spans.setdefault(o.lesson_minutes, []).append((o.start_time, o.end_time))
    merged: dict[int, list[list[time]]] = {}
    for minutes, pairs in spans.items():
        out: list[list[time]] = []
        for start, end in sorted(pairs):
            if out and start <= out[-1][1]:
                out[-1][1] = max(out[-1][1], end)
            else:
                out.append([start, end])
        merged[minutes] = out
    return merged


def _block_spans(blocks: Sequence[Block], tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    spans = []
    for block in blocks:
        if block.start_time is None or block.end_time is None:
            spans.append((_at_or_after(datetime.combine(block.start_on, time()), tz),
                          _at_or_after(datetime.combine(block.end_on + ONE_DAY, time()), tz)))
            continue
        on = block.start_on
        while on <= block.end_on:
            spans.append((_at_or_after(datetime.combine(on, block.start_time), tz),
                          _at_or_after(datetime.combine(on, block.end_time), tz)))
            on += ONE_DAY
    return spans


def naive_slots(
    schedule: Schedule,
    *,
    busy: Sequence[Busy],
    start_on: date,
    end_on: date,
    now: datetime,
    viewer_tz: str | None = None,
) -> list[Slot]:
    """Return what generate_slots returns, computed the slow and obvious way."""
    tz = ZoneInfo(schedule.tz)
    viewer = ZoneInfo(viewer_tz) if viewer_tz is not None else tz
    buffer = timedelta(minutes=schedule.buffer_minutes)
    earliest = now.astimezone(UTC) + timedelta(minutes=schedule.min_notice_minutes)
    horizon = None if schedule.horizon_end_at is None else schedule.horizon_end_at.astimezone(UTC)
    taken = [(b.starts_at.astimezone(UTC) - buffer, b.ends_at.astimezone(UTC) + buffer) for b in busy]
    blocked = _block_spans(schedule.blocks, tz)
    found: set[Slot] = set()
    on = start_on - 3 * ONE_DAY
    while on <= end_on + 3 * ONE_DAY:
        for minutes, windows in _windows_on(on, schedule.weekly, schedule.one_time).items():
            length = timedelta(minutes=minutes)
            for window_start, window_end in windows:
                wall = datetime.combine(on, window_start)
                stop = datetime.combine(on, window_end)
                real_end = _at_or_after(stop, tz)
                previous_end: datetime | None = None
                while wall + length <= stop:
                    start = _exact(wall, tz)
                    wall += length + buffer
                    if start is None:
                        continue
                    end = start + length
                    if end > real_end or (previous_end is not None and start < previous_end + buffer):
                        continue
                    previous_end = end
                    if start < earliest or (horizon is not None and start >= horizon):
                        continue
                    if any(s < end and start < e for s, e in taken) or any(s < end and start < e for s, e in blocked):
                        continue
                    if start_on <= start.astimezone(viewer).date() <= end_on:
                        found.add(Slot(start, end, minutes))
        on += ONE_DAY
    return sorted(found)
