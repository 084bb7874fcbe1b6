"""Time the slot engine against a minimal zoneinfo loop producing the same instants, and check it against a naive reference.

Usage (from the project root):

    .venv/bin/python bench/slot_engine.py                 # 300 timed runs a case, 2,000 random schedules
    BENCH_RUNS=1000 BENCH_SCHEDULES=10000 .venv/bin/python bench/slot_engine.py
    BENCH_BEFORE=fb214bf .venv/bin/python bench/slot_engine.py   # also time the engine as it was at that commit

Part 1, speed: for each month below the engine (`generate_slots`) and a minimal loop (one zoneinfo conversion
per slot start, a set of booked starts, nothing else) produce the same (start, end) instants; the bench
asserts they are equal, then prints the median of each (runs interleaved) and their ratio. The issue's target
is a ratio of at most 2. The machine is shared: the load average is printed, read ratios, not absolute times.

Part 2, exactness: random schedules (weekly and one-time windows of mixed lengths, whole-day and timed blocks,
bookings on and off the grid, buffers, notice, horizon, viewer zones, months with clock changes) are given
to the engine and to tests/domain/naive_slots.py (datetimes, linear scans); every result must be identical.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time as clock
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booking_app.domain.slots import Block, Busy, OneTimeWindow, Schedule, WeeklyWindow, generate_slots  # noqa: E402
from booking_app.domain.timeutil import local_to_utc  # noqa: E402
from tests.domain.naive_slots import naive_slots  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "300"))
BEFORE = os.environ.get("BENCH_BEFORE")  # a git revision whose engine is timed too (same Schedule API)


def engine_at(revision: str) -> Any:
    """Load booking_app/domain/slots.py as it was at a git revision, as a separate module."""
    source = subprocess.run(["git", "show", f"{revision}:booking_app/domain/slots.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(f"slots_at_{revision}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{revision}:slots.py", "exec"), module.__dict__)  # noqa: S102 (our own file, from git)
    return module
SCHEDULES = int(os.environ.get("BENCH_SCHEDULES", "2000"))


@dataclass(frozen=True)
class Month:
    """One timed case: weekly windows (one length, not overlapping), bookings on the grid, a notice."""

    name: str
    tz: str
    first: date
    weekdays: tuple[int, ...]
    hours: tuple[int, int]
    minutes: int
    booked: int
    notice_minutes: int = 120


MONTHS = [
    Month("New York, March (DST), Mon-Fri 9-17, 60 min, 40 busy", "America/New_York", date(2026, 3, 1),
          (1, 2, 3, 4, 5), (9, 17), 60, 40),
    Month("New York, March (DST), daily 6-22, 15 min, 500 busy", "America/New_York", date(2026, 3, 1),
          tuple(range(1, 8)), (6, 22), 15, 500),
    Month("London, March (DST), daily 7-21, 30 min, 200 busy", "Europe/London", date(2026, 3, 1),
          tuple(range(1, 8)), (7, 21), 30, 200),
    Month("Sydney, April (DST ends), Mon-Sat 8-20, 45 min, 150 busy", "Australia/Sydney", date(2026, 4, 1),
          (1, 2, 3, 4, 5, 6), (8, 20), 45, 150),
    Month("Santiago, April (DST ends at midnight), daily 6-22, 20 min, 400 busy", "America/Santiago",
          date(2026, 4, 1), tuple(range(1, 8)), (6, 22), 20, 400),
    Month("Kolkata, June (no DST), Mon-Fri 10-18, 60 min, 10 busy", "Asia/Kolkata", date(2026, 6, 1),
          (1, 2, 3, 4, 5), (10, 18), 60, 10),
]


def _month_days(first: date) -> list[date]:
    days = []
    on = first
    while on.month == first.month:
        days.append(on)
        on += timedelta(days=1)
    return days


def _booked(month: Month, rng: random.Random) -> list[Busy]:
    days = [d for d in _month_days(month.first) if d.isoweekday() in month.weekdays]
    per_day = (month.hours[1] - month.hours[0]) * 60 // month.minutes
    starts: set[datetime] = set()
    while len(starts) < month.booked:
        at = month.hours[0] * 60 + rng.randrange(per_day) * month.minutes
        instant = local_to_utc(rng.choice(days), time(at // 60, at % 60), month.tz)
        if instant is not None:
            starts.add(instant)
    rows = [Busy(s, s + timedelta(minutes=month.minutes)) for s in starts]
    rng.shuffle(rows)  # bookings arrive in no particular order
    return rows


def minimal_loop(month: Month, busy: list[Busy], now: datetime) -> list[tuple[datetime, datetime]]:
    """The floor: one wall-clock -> UTC conversion per slot start, booked starts looked up in a set."""
    tz = ZoneInfo(month.tz)
    taken = {b.starts_at for b in busy}
    earliest = now + timedelta(minutes=month.notice_minutes)
    length = timedelta(minutes=month.minutes)
    open_at = time(month.hours[0])
    count = ((month.hours[1] - month.hours[0]) * 60) // month.minutes
    out = []
    for on in _month_days(month.first):
        if on.isoweekday() not in month.weekdays:
            continue
        wall = datetime.combine(on, open_at, tz)  # aware local time; + timedelta steps the wall clock
        for _ in range(count):
            start = wall.astimezone(UTC)
            wall += length
            if start >= earliest and start not in taken:
                out.append((start, start + length))
    return out


def timed(fn: Callable[[], object], runs: int, other: Callable[[], object]) -> tuple[list[float], list[float]]:
    """Run fn and other alternately runs times each; return both lists of milliseconds."""
    fn(), other()
    mine, theirs = [], []
    for _ in range(runs):
        t0 = clock.perf_counter()
        fn()
        t1 = clock.perf_counter()
        other()
        t2 = clock.perf_counter()
        mine.append((t1 - t0) * 1000)
        theirs.append((t2 - t1) * 1000)
    return mine, theirs


def speed() -> list[float]:
    print(f"Part 1: the engine vs a minimal zoneinfo loop, median of {RUNS} interleaved runs "
          f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    before = engine_at(BEFORE) if BEFORE else None
    header = f"{'month':<72} {'slots':>6} {'engine ms':>10} {'loop ms':>8} {'ratio':>6}"
    if before is not None:
        header += f" {'before ms':>10} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    ratios = []
    for month in MONTHS:
        rng = random.Random(month.name)
        busy = _booked(month, rng)
        now = datetime.combine(month.first - timedelta(days=1), time(12), tzinfo=UTC)
        schedule = Schedule(
            tz=month.tz,
            weekly=tuple(WeeklyWindow(d, time(month.hours[0]), time(month.hours[1]), month.minutes) for d in month.weekdays),
            min_notice_minutes=month.notice_minutes,
        )
        last = _month_days(month.first)[-1]

        def engine(schedule: Schedule = schedule, busy: list[Busy] = busy, now: datetime = now,
                   last: date = last, month: Month = month) -> object:
            return generate_slots(schedule, busy=busy, start_on=month.first, end_on=last, now=now)

        def loop(month: Month = month, busy: list[Busy] = busy, now: datetime = now) -> object:
            return minimal_loop(month, busy, now)

        produced = generate_slots(schedule, busy=busy, start_on=month.first, end_on=last, now=now)
        expected = minimal_loop(month, busy, now)
        assert [(s.starts_at, s.ends_at) for s in produced] == expected, month.name
        mine, theirs = timed(engine, RUNS, loop)
        ratio = statistics.median(mine) / statistics.median(theirs)
        ratios.append(ratio)
        line = (f"{month.name:<72} {len(produced):>6} {statistics.median(mine):>10.3f} "
                f"{statistics.median(theirs):>8.3f} {ratio:>6.2f}")
        if before is not None:
            old_schedule = before.Schedule(tz=month.tz, weekly=tuple(before.WeeklyWindow(*w) for w in
                                           ((d, time(month.hours[0]), time(month.hours[1]), month.minutes)
                                            for d in month.weekdays)), min_notice_minutes=month.notice_minutes)
            old_busy = [before.Busy(b.starts_at, b.ends_at) for b in busy]

            def old(old_schedule: Any = old_schedule, old_busy: list[Any] = old_busy, now: datetime = now,
                    last: date = last, month: Month = month) -> object:
                return before.generate_slots(old_schedule, busy=old_busy, start_on=month.first, end_on=last, now=now)

            assert [(s.starts_at, s.ends_at) for s in old()] == expected, month.name  # type: ignore[attr-defined]
            then, floor = timed(old, RUNS, loop)
            line += f" {statistics.median(then):>10.3f} {statistics.median(then) / statistics.median(floor):>6.2f}"
        print(line)
    print(f"worst ratio {max(ratios):.2f} (target <= 2)")
    return ratios


ZONES = ["America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago",
         "Asia/Kolkata", "Pacific/Apia", "Europe/Dublin", "UTC"]
FIRST_DAYS = [date(2026, 3, 6), date(2026, 3, 27), date(2026, 4, 3), date(2026, 9, 4), date(2026, 10, 2),
              date(2026, 10, 23), date(2026, 10, 30), date(2026, 6, 12), date(2011, 12, 28)]


def random_case(rng: random.Random) -> tuple[Schedule, dict[str, object]]:
    """One random schedule and call, over about a week around a clock change."""
    tz = rng.choice(ZONES)
    first = rng.choice(FIRST_DAYS)
    near = lambda: first + timedelta(days=rng.randint(-2, 8))  # noqa: E731

    def span() -> tuple[time, time]:
        a = rng.randint(0, 94)
        b = rng.randint(a + 1, 95)
        return time(a // 4, a % 4 * 15), time(b // 4, b % 4 * 15)

    lengths = [rng.choice([15, 20, 30, 45, 60, 90]) for _ in range(2)]
    weekly = [WeeklyWindow(rng.randint(1, 7), *span(), rng.choice(lengths),
                           near() if rng.random() < 0.2 else None, near() if rng.random() < 0.2 else None)
              for _ in range(rng.randint(0, 12))]
    one_time = [OneTimeWindow(near(), *span(), rng.choice(lengths)) for _ in range(rng.randint(0, 3))]
    blocks = []
    for _ in range(rng.randint(0, 3)):
        start_on = near()
        end_on = start_on + timedelta(days=rng.randint(0, 2))
        blocks.append(Block(start_on, end_on) if rng.random() < 0.4 else Block(start_on, end_on, *span()))
    base = datetime.combine(first, time(), tzinfo=UTC)
    busy = []
    for _ in range(rng.randint(0, 80)):
        begins = base + timedelta(minutes=5 * rng.randint(-600, 2500))
        busy.append(Busy(begins, begins + timedelta(minutes=rng.choice([5, 15, 20, 30, 60, 120]))))
    now = base + timedelta(minutes=15 * rng.randint(-200, 400))
    schedule = Schedule(tz=tz, weekly=tuple(weekly), one_time=tuple(one_time), blocks=tuple(blocks),
                        buffer_minutes=rng.choice([0, 0, 5, 10, 15]), min_notice_minutes=rng.choice([0, 60, 120]),
                        horizon_end_at=rng.choice([None, now + timedelta(days=rng.randint(1, 6))]))
    call: dict[str, object] = {"busy": busy, "start_on": first, "end_on": first + timedelta(days=rng.randint(0, 6)),
                               "now": now, "viewer_tz": rng.choice([None, None, *ZONES])}
    return schedule, call


def exactness() -> int:
    rng = random.Random(11)
    slots = 0
    t0 = clock.perf_counter()
    for i in range(SCHEDULES):
        schedule, call = random_case(rng)
        mine = generate_slots(schedule, **call)  # type: ignore[arg-type]
        theirs = naive_slots(schedule, **call)  # type: ignore[arg-type]
        if mine != theirs:
            print(f"MISMATCH in schedule {i}: {schedule} {call}\nengine {len(mine)} slots, naive {len(theirs)}")
            return 1
        slots += len(mine)
    print(f"\nPart 2: {SCHEDULES} random schedules ({slots} slots in all) give identical results in the engine "
          f"and the naive reference ({clock.perf_counter() - t0:.1f} s)")
    return 0


def main() -> int:
    ratios = speed()
    failed = exactness()
    return failed or (1 if max(ratios) > 2 else 0)


if __name__ == "__main__":
    raise SystemExit(main())
