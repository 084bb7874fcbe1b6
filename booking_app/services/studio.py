"""Studio-wide settings: read with defaults, change as the owner."""

from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy.exc import IntegrityError

from .. import wording
from ..extensions import db
from ..models import StudioSettings
from . import ServiceError

HORIZONS = ("end_of_month", "end_of_next_month", "days")
SERIES_MAX_WEEKS_MIN, SERIES_MAX_WEEKS_MAX = 0, 52


def _cached() -> StudioSettings | None:
    # Only a request keeps the row: a worker's app context lives for many jobs, and sessions end between them.
    return g.get("studio") if has_request_context() else None


def get_studio() -> StudioSettings:
    """Return the studio settings row, creating the defaults on first use."""
    cached = _cached()
    if cached is not None:
        return cached
    studio = db.session.get(StudioSettings, 1)
    if studio is None:
        # Two first requests may race to create the row: the loser reads the winner's.
        try:
            with db.session.begin_nested():
                db.session.add(StudioSettings(id=1))
        except IntegrityError:
            pass
        studio = db.session.get(StudioSettings, 1)
        assert studio is not None
    if has_request_context():
        g.studio = studio
    return studio


def remember_studio(studio: StudioSettings) -> None:
    """Keep the studio settings row a query of this request already loaded, for get_studio()."""
    if has_request_context():
        g.studio = studio


def studio_name() -> str:
    """Return the studio's display name."""
    cached = _cached()
    row = cached if cached is not None else db.session.get(StudioSettings, 1)
    return row.name if row else "The Studio"


def update_studio(
    *,
    name: str | None = None,
    horizon: str | None = None,
    horizon_days: int | None = None,
    pending_expiry_hours: int | None = None,
    cancellation_window_hours: int | None = None,
    series_max_weeks: int | None = None,
) -> StudioSettings:
    """Change studio settings after checking every value."""
    studio = get_studio()
    if horizon is not None:
        if horizon not in HORIZONS:
            raise ServiceError("Choose end of month, end of next month or a number of days.", field="horizon")
        if horizon == "days" and not (horizon_days and 1 <= horizon_days <= 365):
            raise ServiceError("Enter a booking horizon between 1 and 365 days.", field="horizon_days")
        studio.horizon = horizon
        studio.horizon_days = horizon_days if horizon == "days" else None
    if pending_expiry_hours is not None:
        if not 1 <= pending_expiry_hours <= 168:
            raise ServiceError("Requests must expire after 1 to 168 hours.", field="pending_expiry_hours")
        studio.pending_expiry_hours = pending_expiry_hours
    if cancellation_window_hours is not None:
        if not 0 <= cancellation_window_hours <= 336:
            raise ServiceError("The cancellation window must be 0 to 336 hours.", field="cancellation_window_hours")
        studio.cancellation_window_hours = cancellation_window_hours
    if series_max_weeks is not None:
        if not SERIES_MAX_WEEKS_MIN <= series_max_weeks <= SERIES_MAX_WEEKS_MAX:
            raise ServiceError(wording.SERIES_MAX_WEEKS_RANGE, field="series_max_weeks")
        studio.series_max_weeks = series_max_weeks
    if name is not None:
        name = name.strip()
        if not 1 <= len(name) <= 120:
            raise ServiceError("Enter a studio name of 1 to 120 characters.", field="name")
        studio.name = name
    db.session.commit()
    return studio
