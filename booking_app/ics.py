"""iCalendar export of one booking, with a UID that stays the same across downloads and mails."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar, Event

from .domain.bookings import Status
from .models import Booking

PRODID = "-//Lesson booking//booking_app//EN"


def booking_uid(booking: Booking) -> str:
    """Return the stable calendar UID of a booking."""
    return f"booking-{booking.id}@booking-app"


def invitation(booking: Booking, method: str = "PUBLISH", url: str | None = None) -> str:
    """Return an .ics text holding one lesson; method CANCEL marks it as no longer taking place."""
    cancelled = method == "CANCEL" or booking.status in ("declined", "expired", "cancelled", "no_show")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", booking.updated_at or booking.created_at)
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("summary", f"Lesson: {booking.instructor.name} and {booking.student.name}")
    description = f"Booking page: {url}" if url else ""
    if booking.notes:
        description += ("\n\n" if description else "") + f"Note: {booking.notes}"
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else ("TENTATIVE" if booking.status == Status.PENDING else "CONFIRMED"))
    # SEQUENCE grows with each change so calendar apps replace the earlier copy.
    event.add("sequence", len(booking.history))
    cal.add_component(event)
    return cal.to_ical().decode()


def feed(bookings: list[Booking], viewer_id: int, base_url: str, name: str) -> str:
    """Return a subscribable calendar of lessons, each named after the viewer's counterpart."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    for booking in bookings:
        other = booking.student if booking.instructor_id == viewer_id else booking.instructor
        event = Event()
        event.add("uid", booking_uid(booking))
        event.add("dtstamp", booking.updated_at or booking.created_at)
        event.add("dtstart", booking.starts_at)
        event.add("dtend", booking.ends_at)
        pending = booking.status == Status.PENDING
        event.add("summary", f"{'Requested: ' if pending else ''}Lesson with {other.name}")
        event.add("status", "TENTATIVE" if pending else "CONFIRMED")
        event.add("url", f"{base_url}/bookings/{booking.id}")
        event.add("sequence", len(booking.history))
        cal.add_component(event)
    return cal.to_ical().decode()
