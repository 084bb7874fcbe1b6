"""What staff keep about their students: the colour palette, the bounds of notes, and when lesson notes may be written."""

from __future__ import annotations

from datetime import datetime

from .bookings import Status

# A student's colour, by its stored name: (label, accent). Each accent reaches at least 4.5:1 against white (and
# against the light tint the schedule draws it on), so text and marks in it stay readable (WCAG AA).
COLOURS: dict[str, tuple[str, str]] = {
    "blue": ("Blue", "#0b5cad"),
    "green": ("Green", "#1b6e37"),
    "purple": ("Purple", "#6a3fb0"),
    "orange": ("Orange", "#a34a00"),
    "pink": ("Pink", "#b0246a"),
    "teal": ("Teal", "#0f6b6b"),
    "brown": ("Brown", "#7a4b26"),
    "grey": ("Grey", "#4f5a65"),
}

MAX_STUDENT_NOTE = 2000
MAX_LESSON_SUMMARY = 4000
MAX_PRIVATE_NOTE = 4000

# The two lesson notes, as their history rows name them.
SUMMARY = "summary"
PRIVATE_NOTE = "private_note"
NOTE_FIELDS = (SUMMARY, PRIVATE_NOTE)

# A lesson that was held (or was due to be): notes make sense for it. A declined, expired or cancelled one never
# took place.
NOTE_STATUSES = frozenset({Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW})

RECENT_DAYS = 90


def lesson_notes_refusal(status: Status, starts_at: datetime, now: datetime) -> str | None:
    """Return why notes cannot be written for this lesson yet (or at all), else None."""
    if status not in NOTE_STATUSES:
        return "Lesson notes are only kept for lessons that took place. This one did not."
    if now < starts_at:
        return "Lesson notes can be written once the lesson has started."
    return None


def colour_problem(colour: str | None) -> str | None:
    """Return a sentence when a colour is not one of the palette's names (None or "" means no colour)."""
    if not colour or colour in COLOURS:
        return None
    return f"Choose the colour from the list: {', '.join(COLOURS)} (or none)."


def may_keep_notes(viewer_id: int, viewer_is_owner: bool, instructor_id: int) -> bool:
    """Whether this person writes and reads staff notes for the instructor's students: the instructor, or the owner."""
    return viewer_is_owner or viewer_id == instructor_id
