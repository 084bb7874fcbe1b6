"""Measure the pure slot engine on realistic months and print median timings as a table."""

from __future__ import annotations

import random
import statistics
import sys
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

# Run as `python bench/slots_engine.py` from anywhere: make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from booking_app.domain.slots import (  # noqa: E402
    Block,
    Busy,
    OneTimeWindow,
    Slot,
    WeeklyWindow,
    generate_slots,
)
from booking_app.domain.timeutil import local_to_utc  # noqa: E402

RUNS = 200
MONTH_START = date(2026, 3, 1)  # contains the US spring-forward day
MONTH_END = date(2026, 3, 31)
NOW = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    """One benchmark scenario: a name, its target and a call that computes the slots."""

    name: str
    target_ms: float | None
    run: Callable[[], list[Slot]]


@dataclass(frozen=True)
class Result:
    """The measured timing of one scenario."""

    name: str
    median_ms: float
    p95_ms: float
    slots: int
    target_ms: float | None


def _busy_on_grid(
    rng: random.Random, count: int, tz: str, days: list[date], hours: range, minutes: int
) -> list[Busy]:
    """Return count distinct bookings placed on the lesson grid of random days."""
    starts: set[datetime] = set()
    per_hour = 60 // minutes
    while len(starts) < count:
        on = rng.choice(days)
        at = time(rng.choice(hours), rng.randrange(per_hour) * minutes)
        instant = local_to_utc(on, at, tz)
        if instant is not None:
            starts.add(instant)
    return [Busy(s, s + timedelta(minutes=minutes)) for s in sorted(starts)]


def _month_days(weekdays: set[int]) -> list[date]:
    days = [MONTH_START + timedelta(days=i) for i in range((MONTH_END - MONTH_START).days + 1)]
    return [d for d in days if d.isoweekday() in weekdays]


def office_hours_case() -> Case:
    """Return case (a): Mon–Fri 09:00–17:00 New York, 60-minute lessons, 40 bookings."""
    tz = "America/New_York"
    weekly = [WeeklyWindow(day, time(9), time(17), 60) for day in range(1, 6)]
    busy = _busy_on_grid(random.Random(1), 40, tz, _month_days({1, 2, 3, 4, 5}), range(9, 17), 60)

    def run() -> list[Slot]:
        return generate_slots(
            weekly=weekly,
            one_time=[],
            blocks=[],
            busy=busy,
            tz=tz,
            start_on=MONTH_START,
            end_on=MONTH_END,
            now=NOW,
        )

    return Case("(a) Mon-Fri 9-17, 60 min, 40 busy", 1.0, run)


def busy_studio_case(viewer_tz: str | None = None, mixed_lengths: bool = False) -> Case:
    """Return case (b): every day 06:00–22:00 from three overlapping windows, 15 min, 500 bookings."""
    tz = "America/New_York"
    lengths = (15, 30, 45) if mixed_lengths else (15, 15, 15)
    spans = ((time(6), time(12)), (time(11), time(17)), (time(16), time(22)))
    weekly = [
        WeeklyWindow(day, start, end, minutes)
        for day in range(1, 8)
        for (start, end), minutes in zip(spans, lengths, strict=True)
    ]
    one_time = [OneTimeWindow(date(2026, 3, 14), time(22), time(23), 15)]
    blocks = [
        Block(date(2026, 3, 20), date(2026, 3, 21)),
        Block(date(2026, 3, 2), MONTH_END, time(12), time(13)),
    ]
    busy = _busy_on_grid(random.Random(2), 500, tz, _month_days(set(range(1, 8))), range(6, 22), 15)

    def run() -> list[Slot]:
        return generate_slots(
            weekly=weekly,
            one_time=one_time,
            blocks=blocks,
            busy=busy,
            tz=tz,
            start_on=MONTH_START,
            end_on=MONTH_END,
            now=NOW,
            buffer_minutes=0,
            min_notice_minutes=120,
            viewer_tz=viewer_tz,
        )

    if mixed_lengths:
        return Case("(d) as (b), windows of 15/30/45 min", None, run)
    if viewer_tz is not None:
        return Case(f"(c) as (b), viewed from {viewer_tz}", None, run)
    return Case("(b) daily 6-22, 3 windows, 15 min, 500 busy", 15.0, run)


def engine_cases() -> list[Case]:
    """Return the engine scenarios, targets first."""
    return [
        office_hours_case(),
        busy_studio_case(),
        busy_studio_case(viewer_tz="Australia/Sydney"),
        busy_studio_case(mixed_lengths=True),
    ]


def measure(case: Case, runs: int = RUNS) -> Result:
    """Time case.run runs times (after one warm-up) and summarise in milliseconds."""
    slots = case.run()
    timings = []
    for _ in range(runs):
        started = clock.perf_counter()
        case.run()
        timings.append((clock.perf_counter() - started) * 1000)
    timings.sort()
    return Result(
        name=case.name,
        median_ms=statistics.median(timings),
        p95_ms=timings[int(len(timings) * 0.95) - 1],
        slots=len(slots),
        target_ms=case.target_ms,
    )


def format_table(results: list[Result]) -> str:
    """Return results as a fixed-width table with a verdict against each target."""
    header = f"{'scenario':<46} {'median ms':>10} {'p95 ms':>8} {'slots':>6} {'target':>8}  verdict"
    lines = [header, "-" * len(header)]
    for r in results:
        target = "-" if r.target_ms is None else f"<{r.target_ms:g}"
        verdict = "" if r.target_ms is None else ("ok" if r.median_ms < r.target_ms else "SLOW")
        lines.append(
            f"{r.name:<46} {r.median_ms:>10.3f} {r.p95_ms:>8.3f} {r.slots:>6} {target:>8}  {verdict}"
        )
    return "\n".join(lines)


def main() -> int:
    """Run every engine case and print the table; exit 1 if a target is missed."""
    results = [measure(case) for case in engine_cases()]
    print(format_table(results))
    missed = [r for r in results if r.target_ms is not None and r.median_ms >= r.target_ms]
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
