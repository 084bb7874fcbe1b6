"""Booking workflow: request, confirm, decline, cancel, move, expire and complete lessons."""

from __future__ import annotations

from ...domain.bookings import Action, Role, Status
from ..booking_filters import status_filter
from .changes import (
    CHANGED_MEANWHILE,
    cancel,
    cancel_for_leaver,
    confirm,
    decline,
    decline_uncovered,
    mark_no_show,
    move,
)
from .queries import (
    NOT_FOUND,
    actions_for,
    actor_for,
    can_reschedule,
    cancel_refusal,
    facts,
    get_for,
    list_for,
    pending_reschedule,
    status_of,
    visible_filter,
    window_refusal,
)
from .requesting import MAX_NOTES, Requested, request_booking
from .sweeps import complete_due, expire_booking, expire_due, expire_effect

__all__ = [
    "CHANGED_MEANWHILE", "MAX_NOTES", "NOT_FOUND", "Action", "Requested", "Role", "Status",
    "actions_for", "actor_for", "can_reschedule", "cancel", "cancel_for_leaver", "cancel_refusal", "window_refusal", "complete_due", "confirm",
    "decline", "decline_uncovered", "expire_booking", "expire_due", "expire_effect", "facts", "get_for",
    "list_for", "mark_no_show", "move", "pending_reschedule", "request_booking", "status_filter", "status_of",
    "visible_filter",
]
