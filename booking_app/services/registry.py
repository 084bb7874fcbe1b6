"""Every effect handler and sweep step, registered in one place when the app (or the worker) starts."""

from __future__ import annotations

from . import availability, bookings, effects, mail, maintenance
from .bookings import series


def register_all() -> None:
    """Register every effect handler and sweep step (idempotent: registering twice changes nothing)."""
    effects.register("mail", mail.send_mail_effect)
    effects.register("account_mail", mail.send_account_mail_effect)
    effects.register("booking.expire", bookings.expire_effect)
    effects.register(series.EXPIRE_EFFECT, series.expire_series_effect)
    effects.register(availability.AUTO_DECLINE, availability.run_auto_decline)
    # Expire first so completion and reminders see the persisted statuses.
    maintenance.register_step("expire_pending", bookings.expire_due)
    maintenance.register_step("complete_lessons", bookings.complete_due)
    maintenance.register_step("reminders", mail.queue_reminders)
