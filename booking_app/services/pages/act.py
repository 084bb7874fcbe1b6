"""The page an action link opens: the lesson it is about, whether the action is still open, and the times to move to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ... import wording
from ...domain.mail_actions import MailAction
from ...domain.timeutil import utc_to_local
from ...models import Booking, User
from .. import ServiceError
from ..action_links import open_link
from ..slots import open_slots

MOVE_DAYS = 14  # how far ahead the reschedule page offers times


@dataclass(frozen=True)
class TimeChoice:
    """One open time the lesson could move to: the value the form sends and how it reads."""

    value: str
    label: str


@dataclass
class ActionPage:
    """What an action link's page shows; `gone` holds the sentence when the link no longer works."""

    action: MailAction
    question: str
    button: str
    gone: str | None = None
    booking: Booking | None = None
    user: User | None = None
    refusal: str | None = None
    who_label: str = ""  # "Student" or "Instructor": the other person's part in the lesson
    who: str = ""
    when: str = ""
    length: str = ""
    zone: str = ""  # the recipient's zone, as people say it: "New York time"
    status: str = ""
    days: list[tuple[str, list[TimeChoice]]] = field(default_factory=list)
    no_times: str | None = None

    @property
    def can_act(self) -> bool:
        """Return whether the page offers its button."""
        return self.gone is None and self.refusal is None and (self.action is not MailAction.RESCHEDULE or bool(self.days))


def _move_choices(booking: Booking, tz: str, now: datetime) -> list[tuple[str, list[TimeChoice]]]:
    """Return the instructor's open times of the lesson's length over the next two weeks, by day in `tz`."""
    today = utc_to_local(now, tz).date()
    days: dict[str, list[TimeChoice]] = {}
    for slot in open_slots(booking.instructor, today, today + timedelta(days=MOVE_DAYS - 1), viewer_tz=tz, now=now):
        if slot.lesson_minutes != booking.lesson_minutes or slot.starts_at == booking.starts_at:
            continue
        day = wording.moment(slot.starts_at, tz, "day")
        days.setdefault(day, []).append(TimeChoice(wording.iso_utc(slot.starts_at), wording.moment(slot.starts_at, tz,
                                                                                                     "time")))
    return list(days.items())


def action_page(action: MailAction, token: str, now: datetime) -> ActionPage:
    """Build the page an action link opens, naming the lesson in the recipient's zone."""
    page = ActionPage(action, wording.ACTION_QUESTIONS[action.value], wording.ACTION_BUTTONS[action.value])
    try:
        opened = open_link(action, token, now)
    except ServiceError as exc:
        page.gone = exc.message
        return page
    booking, user = opened.booking, opened.user
    other = booking.student if user.id == booking.instructor_id else booking.instructor
    page.booking, page.user, page.refusal = booking, user, opened.refusal
    page.who_label, page.who = ("Student" if other.id == booking.student_id else "Instructor"), other.name
    page.length = wording.minutes_words(booking.lesson_minutes)
    page.when = wording.when_in_zone(booking.starts_at, user.timezone)
    page.zone = wording.zone_label(user.timezone)
    page.status = wording.status_label(booking.status)
    if action is MailAction.RESCHEDULE and page.refusal is None:
        page.days = _move_choices(booking, user.timezone, now)
        if not page.days:
            page.no_times = wording.ACTION_NO_TIMES.format(
                name=booking.instructor.name, length=wording.minutes_words(booking.lesson_minutes))
    return page
