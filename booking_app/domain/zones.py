"""The list of timezones offered in forms."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

_REGIONS = ("Africa/", "America/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/")


@cache
def common_timezones() -> tuple[str, ...]:
    """Return the IANA zones people pick from (Area/City names plus UTC), sorted."""
    zones = sorted(z for z in available_timezones() if z.startswith(_REGIONS))
    return ("UTC", *zones)
