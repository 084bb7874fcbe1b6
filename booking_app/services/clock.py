"""The one clock services read: real UTC time, or a frozen instant tests set in the config."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context

from ..models import utcnow


def now() -> datetime:
    """Return the current instant (app.config["FROZEN_NOW"] when tests freeze time)."""
    if has_app_context():
        frozen = current_app.config.get("FROZEN_NOW")
        if frozen is not None:
            return frozen  # type: ignore[no-any-return]
    return utcnow()
