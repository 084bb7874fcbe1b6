"""The periodic sweep: persist what time has already decided, then run due effects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import clock, effects

Step = Callable[[datetime], int]

# Steps run in the order registered (services/registry.py): expire requests, complete lessons, queue reminders.
SWEEP_STEPS: dict[str, Step] = {}


def register_step(name: str, fn: Step) -> None:
    """Register a function the sweep calls with `now`; it returns how many rows it changed."""
    SWEEP_STEPS[name] = fn


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Run every sweep step and then every due effect; return counts by step."""
    now = now or clock.now()
    counts = {name: fn(now) for name, fn in SWEEP_STEPS.items()}
    counts["effects"] = effects.run_due(now)
    return counts
