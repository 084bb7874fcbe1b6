"""The periodic sweep: persist what time has already decided, then run due effects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import clock, effects

# Feature areas add steps (expire pending requests, complete past lessons, queue reminders).
SWEEP_STEPS: list[tuple[str, Callable[[datetime], int]]] = []


def sweep_step(name: str) -> Callable[[Callable[[datetime], int]], Callable[[datetime], int]]:
    """Register a function the sweep calls with `now`; it returns how many rows it changed."""

    def register(fn: Callable[[datetime], int]) -> Callable[[datetime], int]:
        SWEEP_STEPS.append((name, fn))
        return fn

    return register


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Run every sweep step and then every due effect; return counts by step."""
    now = now or clock.now()
    counts = {name: fn(now) for name, fn in SWEEP_STEPS}
    counts["effects"] = effects.run_due(now)
    return counts
