"""Every sentence piece, status label and time format shared by pages, mails and notifications (stdlib only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

# The clock format is an argument everywhere so that a studio setting can choose it.
CLOCK_12 = 12
CLOCK_24 = 24

# --- time formats ----------------------------------------------------------------------------------

# Named date patterns (strftime); times of day are added by `time_of_day` so the clock format applies.
DATE_STYLES: dict[str, str] = {
    "day": "%a %-d %b",  # Thu 5 Feb
    "day_year": "%a %-d %b %Y",  # Thu 5 Feb 2027
    "long_day": "%A %-d %B",  # Thursday 5 February
    "long_day_year": "%A %-d %B %Y",  # Thursday 5 February 2027
    "date": "%-d %b %Y",  # 5 Feb 2027
    "short_date": "%-d %b",  # 5 Feb
    "long_date": "%-d %B",  # 5 February
    "month": "%B %Y",  # February 2027
    "weekday": "%A",  # Thursday
    "short_weekday": "%a",  # Thu
    "iso_date": "%Y-%m-%d",  # 2027-02-05, for forms (a series' "from this date")
}

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"
ICS_UTC = "%Y%m%dT%H%M%SZ"


def local(instant: datetime, tz: str) -> datetime:
    """Return an aware instant as wall-clock time in an IANA zone."""
    return instant.astimezone(ZoneInfo(tz or "UTC"))


def time_of_day(at: time | datetime, clock: int = CLOCK_12) -> str:
    """Say a wall-clock time: "2:00 PM" on a 12-hour clock, "14:00" on a 24-hour one."""
    if clock == CLOCK_24:
        return f"{at.hour:02d}:{at.minute:02d}"
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


def day(on: date, style: str = "day") -> str:
    """Say a date in one of the named styles ("day" -> "Thu 5 Feb")."""
    return on.strftime(DATE_STYLES[style])


def when(instant: datetime | None, tz: str, style: str = "day", clock: int = CLOCK_12) -> str:
    """Say an instant's local date (in a named style) and time: "Thu 5 Feb, 2:00 PM"."""
    if instant is None:
        return ""
    moment = local(instant, tz)
    return f"{day(moment, style)}, {time_of_day(moment, clock)}"


def short_when(instant: datetime, tz: str, clock: int = CLOCK_12) -> str:
    """Say an instant in a sentence: "Thu 5 Feb at 2:00 PM"."""
    moment = local(instant, tz)
    return f"{day(moment)} at {time_of_day(moment, clock)}"


def zone_label(tz: str) -> str:
    """Name a timezone the way people say it: "America/New_York" -> "New York time", "UTC" -> "UTC"."""
    if "/" not in tz:
        return tz
    return f"{tz.rsplit('/', 1)[-1].replace('_', ' ')} time"


def when_in_zone(instant: datetime, tz: str, clock: int = CLOCK_12) -> str:
    """Say an instant with its zone's name: "Thu 5 Feb at 2:00 PM (New York time)"."""
    return f"{short_when(instant, tz, clock)} ({zone_label(tz)})"


def when_abbreviated(instant: datetime, tz: str, clock: int = CLOCK_12) -> str:
    """Say an instant with the zone's abbreviation, for notifications: "Thu 5 Feb at 2:00 PM (EST)"."""
    moment = local(instant, tz)
    return f"{short_when(instant, tz, clock)} ({moment.tzname()})"


def time_range(start: time | datetime, end: time | datetime, clock: int = CLOCK_12) -> str:
    """Say a span of wall-clock times: "2:00 PM – 3:00 PM"."""
    return f"{time_of_day(start, clock)} – {time_of_day(end, clock)}"


def duration_words(seconds: float) -> str:
    """Say a duration briefly: "3 h 12 min", "2 d 4 h", "less than a minute"."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def minutes_words(minutes: int) -> str:
    """Say a length of time in words: "2 hours", "1 hour", "90 minutes"."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("" if hours == 1 else "s")
    return f"{minutes} minutes"


def plural(count: int, one: str, many: str | None = None) -> str:
    """Say a count with its noun: "1 lesson", "3 lessons"."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


# --- the status vocabulary -------------------------------------------------------------------------

# Keyed by the stored values, which are also the domain's Status values.
STATUS_LABELS: dict[str, str] = {
    "pending": "Pending", "confirmed": "Confirmed", "declined": "Declined", "expired": "Expired",
    "cancelled": "Cancelled", "completed": "Completed", "no_show": "No-show",
}

# "<person> <verb> the lesson": what a change did, as notifications say it.
STATUS_VERBS: dict[str, str] = {
    "confirmed": "confirmed", "declined": "declined", "cancelled": "cancelled", "expired": "expired",
    "completed": "completed", "no_show": "marked as a no-show",
}

# A booking's history line: "<person> <verb>".
HISTORY_VERBS: dict[str, str] = {
    "confirmed": "confirmed the lesson", "declined": "declined the request", "expired": "expired: no answer in time",
    "cancelled": "cancelled the lesson", "completed": "completed after the lesson ended", "no_show": "marked a no-show",
}


def status_label(status: str) -> str:
    """Return the label a status badge shows: "no_show" -> "No-show"."""
    return STATUS_LABELS.get(str(status), str(status).replace("_", " ").capitalize())


# --- pages -----------------------------------------------------------------------------------------

DATE_STYLES.update({
    "weekday_day": "%a %-d",  # Thu 5
    "day_long_month": "%a %-d %B",  # Thu 5 February
    "iso_month": "%Y-%m",  # 2027-02
})

# The order badges and filters list the statuses in.
STATUS_ORDER = tuple(STATUS_LABELS)

STATUS_BADGES = {
    "pending": "text-bg-warning", "confirmed": "text-bg-success", "declined": "text-bg-secondary",
    "expired": "text-bg-secondary", "cancelled": "text-bg-secondary", "completed": "text-bg-primary",
    "no_show": "text-bg-danger",
}


def moment(instant: datetime | None, tz: str, style: str = "day_year_time") -> str:
    """Say an instant in a named style: a date style ("day"), with its time ("day_time"), or the time ("time").

    A "_24" ending uses the 24-hour clock: "day_year_time_24" -> "Thu 5 Feb 2027, 14:00".
    """
    if instant is None:
        return ""
    clock = CLOCK_24 if style.endswith("_24") else CLOCK_12
    base = style.removesuffix("_24")
    if base == "time":
        return time_of_day(local(instant, tz), clock)
    if base.endswith("_time"):
        return when(instant, tz, base.removesuffix("_time"), clock)
    return day(local(instant, tz), base)


def iso_utc(instant: datetime) -> str:
    """Write an aware instant for machines: "2027-02-05T14:00:00Z"."""
    # Formatted by hand: a month of slots writes thousands of these, and strftime is several times slower.
    u = instant.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


# --- services --------------------------------------------------------------------------------------


def when_with_zone(instant: datetime, tz: str, clock: int = CLOCK_12) -> str:
    """Say an instant for a mail subject, with the zone's abbreviation: "Thu 5 Feb, 2:00 PM EST"."""
    return f"{when(instant, tz, 'day', clock)} {local(instant, tz).tzname()}"


def status_refusal(status: str) -> str:
    """Say why a booking cannot change from where it is: "This booking is already confirmed."."""
    if status == "pending":
        return "This booking is still pending."
    return f"This booking is already {STATUS_VERBS.get(status, status)}."


def account_change(name: str, active: bool, released: int) -> str:
    """Say what (de)activating an account did: "Sam Lee is deactivated; 2 pending requests were released."."""
    if active:
        return f"{name} is active again."
    if not released:
        return f"{name} is deactivated."
    return f"{name} is deactivated; {plural(released, 'pending request')} {'was' if released == 1 else 'were'} released."


def lessons_to_rehome(name: str, count: int) -> str:
    """Ask the owner to see to a deactivated instructor's lessons ahead."""
    return (f"{name} still has {plural(count, 'confirmed lesson')} ahead, listed here: "
            "cancel or move each one, or reactivate the account.")


# --- accounts: passwords and the sign-in address ----------------------------------------------------

# The forgot-password answer: the same words whether or not an account uses the address.
RESET_REQUESTED = (
    "If an account uses this address, we have sent it a link to choose a new password. The link works once, "
    "for one hour. If nothing arrives within a few minutes, check your spam folder or ask again."
)
RESET_DONE = ("Your new password is saved and you are signed in. Every other browser that was signed in to your "
              "account has been signed out.")
WRONG_PASSWORD = "That is not your current password. Check it and try again."
ADDRESS_TAKEN = "An account already uses this address. Choose another address, or sign in to that account instead."
SAME_ADDRESS = "That is already your sign-in address. Enter a different one."
ACCOUNT_CLOSED = "This account is deactivated, so its password and address cannot change. Contact the studio."


def link_deadline(expires_at: datetime, tz: str, clock: int = CLOCK_12) -> str:
    """Say until when a mailed link works, in the recipient's zone: "Thu 5 Feb at 2:00 PM (CET)"."""
    return when_abbreviated(expires_at, tz, clock)


def others_signed_out(count: int) -> str:
    """Say what a password change did to the user's other browsers."""
    if count == 0:
        return "No other browser was signed in to your account."
    return f"{plural(count, 'other browser')} signed in to your account {'was' if count == 1 else 'were'} signed out."


def password_changed(count: int) -> str:
    """Say that a password change is saved, what it did elsewhere and that this browser stays signed in."""
    return f"Your password is changed. {others_signed_out(count)} This browser stays signed in."


def address_change_sent(new: str, old: str) -> str:
    """Say where the confirmation of a new sign-in address went and what happens next."""
    return (f"We sent a confirmation link to {new}. Your sign-in address changes to it once you open the link "
            f"and confirm (it works for 24 hours). We also told {old} about the request.")


def address_changed(new: str) -> str:
    """Say that the sign-in address is now the new one."""
    return f"Your sign-in address is now {new}. Use it the next time you sign in."


# --- links: action links in mails and personal booking links ----------------------------------------

MAIL_ACTION_LABELS: dict[str, str] = {
    "accept": "Accept", "decline": "Decline", "cancel": "Cancel the lesson", "reschedule": "Reschedule",
}
ACTION_QUESTIONS: dict[str, str] = {
    "accept": "Accept this lesson request?", "decline": "Decline this lesson request?",
    "cancel": "Cancel this lesson?", "reschedule": "Move this lesson to another time?",
}
ACTION_BUTTONS: dict[str, str] = {
    "accept": "Accept the request", "decline": "Decline the request", "cancel": "Cancel the lesson",
    "reschedule": "Ask to move the lesson",
}
# What a done action says; {other} is the other person's name.
ACTION_DONE: dict[str, str] = {
    "accept": "Lesson confirmed. {other} has been told.",
    "decline": "Request declined. {other} has been told.",
    "cancel": "Lesson cancelled. {other} has been told.",
    "withdraw": "Request withdrawn; the time is free again. {other} has been told.",
    "reschedule": "Request sent. {other} will answer soon; your lesson stays where it is until then.",
}
ACTION_LINK_INVALID = "This link is not valid. Check that it was copied whole, or sign in to find the booking."
ACTION_LINK_EXPIRED = "This link has expired. Sign in to see where the booking stands."
ACTION_MOVE_ASKED = "You already asked to move this lesson. Sign in to see your request and its answer."
ACTION_CHOOSE_TIME = "Choose one of the times shown, then send the request again."
ACTION_NO_TIMES = ("{name} has no other open {length} times in the next two weeks. "
                   "Sign in and message them from the booking page.")
BOOKING_LINK_UNKNOWN_STUDENT = ("We could not find an active student with that address. Check it, or ask the "
                                "student to sign up first.")
BOOKING_LINK_NOT_YOURS = "We could not find that student among yours. Add them by their email address instead."
BOOKING_LINK_NONE = "There is no working link for {name} to withdraw."
BOOKING_LINK_MADE = "A new personal link for {name} is ready below. Any older link of theirs no longer works."
BOOKING_LINK_REVOKED = "{name}'s personal link no longer works."
BOOKING_LINK_SIGN_IN = "Sign in to book a lesson with {name}, or create an account if you have none yet."
BOOKING_LINK_OTHER_PERSON = ("This personal link was made for {student}. You are signed in as {viewer}: "
                             "anything you book here is booked for you.")


def action_no_longer_applies(status: str) -> str:
    """Say why an action link did nothing: "This booking is already confirmed. This link no longer applies; …"."""
    return f"{status_refusal(status)} This link no longer applies; sign in to see where the booking stands."


def last_used(instant: datetime | None, tz: str) -> str:
    """Say when a personal link was last opened, in the viewer's zone: "Thu 5 Feb 2027, 2:00 PM" or "Never"."""
    return moment(instant, tz, "day_year_time") if instant is not None else "Never"

# --- privacy and the audit log ---------------------------------------------------------------------

# What a deleted account is called wherever its name was shown (threads, history, the audit log).
DELETED_USER = "Deleted user"

# The audit log's actions (services/audit.py AuditAction) as its lines say them: "<actor> <words> <subject>".
AUDIT_WORDS: dict[str, str] = {
    "role.changed": "changed the role of",
    "account.deactivated": "deactivated the account of",
    "account.reactivated": "reactivated the account of",
    "account.deleted": "deleted their own account",
    "invitation.sent": "invited",
    "invitation.resent": "sent the invitation again to",
    "invitation.revoked": "withdrew the invitation of",
    "invitation.accepted": "accepted the invitation and joined as",
    "users.imported": "imported people from a CSV file",
}

# A booking's change in the audit log, by what it did (see `booking_change_kind`).
BOOKING_CHANGE_WORDS: dict[str, str] = {
    "requested": "requested a lesson", "moved": "moved a lesson", "withdrawn": "withdrew a request",
    "confirmed": "confirmed a lesson", "declined": "declined a request", "cancelled": "cancelled a lesson",
    "expired": "(a request expired without an answer)", "completed": "(a lesson was completed)",
    "no_show": "marked a no-show",
    "booked": "booked a student in for a lesson",  # staff booked it, confirmed at once
}

SYSTEM_ACTOR = "Automatically"


def booking_change_kind(from_status: str | None, to_status: str, by_student: bool) -> str:
    """Name what a booking change did: "requested", "moved", "withdrawn", or the status it reached."""
    if from_status is None:
        return "booked" if to_status == "confirmed" else "requested"
    if from_status == to_status:
        return "moved"
    if to_status == "cancelled" and from_status == "pending" and by_student:
        return "withdrawn"
    return to_status


def audit_detail(action: str, detail: dict[str, object]) -> str:
    """Say an audit line's details: "from student to instructor", "was a student; 2 lessons and requests cancelled"."""
    if action == "role.changed" and "from" in detail:
        return f"from {detail['from']} to {detail.get('to', '')}"
    if action == "account.deleted" and "role" in detail:
        cancelled = int(str(detail.get("cancelled", 0)))
        ahead = plural(cancelled, "lesson or request", "lessons and requests") if cancelled else "nothing"
        return f"was {'an' if str(detail['role'])[:1] in 'aeiou' else 'a'} {detail['role']}; {ahead} ahead cancelled"
    return ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in sorted(detail.items()))


def account_deleted_notice(lessons: int) -> str:
    """Tell the person whose account was just deleted what happened."""
    were = "was" if lessons == 1 else "were"
    cancelled = (f" {plural(lessons, 'lesson or request', 'lessons and requests')} ahead {were} cancelled, "
                 "and the other person was told." if lessons else "")
    return f"Your account is deleted and you are signed out.{cancelled} Thank you for being part of the studio."


LEAVER_CANCEL_REASON = {
    "student": "The student deleted their account.",
    "instructor": "The instructor deleted their account.",
}

# --- accounts: invitations --------------------------------------------------------------------------

ROLE_ARTICLES = {"owner": "an owner", "instructor": "an instructor", "student": "a student"}


def as_role(role: str) -> str:
    """Say a role after "as": "a student", "an instructor"."""
    return ROLE_ARTICLES.get(role, role)


def until_with_zone(instant: datetime, tz: str, clock: int = CLOCK_12) -> str:
    """Say when something ends, for a mail read days later: "Thu 10 Dec 2026, 3:00 PM CET"."""
    return f"{when(instant, tz, 'day_year', clock)} {local(instant, tz).tzname()}"


def invitation_expiry(expires_at: datetime | None, tz: str, expired: bool) -> str:
    """Say when an invitation stops (or stopped) working, in the viewer's zone: "Expires Thu 10 Dec 2026, 3:00 PM"."""
    if expires_at is None:
        return ""
    return f"{'Expired' if expired else 'Expires'} {when(expires_at, tz, 'day_year')}"


def invitation_sent(name: str, email: str, replaced: bool) -> str:
    """Confirm one invitation: "Invitation sent to Sam Lee (sam@example.com); the link works for 7 days."."""
    again = " A new link replaces the earlier one." if replaced else ""
    return f"Invitation sent to {name} ({email}); the link works for 7 days.{again}"


def invitations_sent(count: int, replaced: int) -> str:
    """Confirm an import: "12 invitations sent (2 replace earlier ones)."."""
    if not replaced:
        return f"{plural(count, 'invitation')} sent; each link works for 7 days."
    return (f"{plural(count, 'invitation')} sent ({replaced} {'replaces an earlier one' if replaced == 1 else 'replace earlier ones'}); "
            "each link works for 7 days.")


def invitation_revoked(email: str) -> str:
    """Confirm a withdrawn invitation."""
    return f"The invitation to {email} is withdrawn; its link no longer works."


def invitation_refused(count: int) -> str:
    """Say why nothing was imported: "2 rows have problems, so nobody was invited. Fix them and upload again."."""
    rows = "1 row has a problem" if count == 1 else f"{count} rows have problems"
    return f"{rows}, so nobody was invited. Fix the file and upload it again."


# --- links sent to people -----------------------------------------------------------------------------

# Why a link no longer works, by its state (domain/links.py LinkState).
LINK_GONE: dict[str, str] = {
    "unknown": "This link is not valid. Check that it was copied whole, or ask for a new one.",
    "used": "This link has already been used. Sign in, or ask for a new one.",
    "expired": "This link has expired. Sign in, or ask for a new one.",
    "revoked": "This link was withdrawn. Sign in, or ask for a new one.",
}


def link_gone(state: str) -> str:
    """Say why a link no longer works, and what to do instead."""
    return LINK_GONE.get(state, LINK_GONE["unknown"])


# --- staff bookings: an instructor or the owner books a student in ----------------------------------------

STAFF_BOOK_NOT_STAFF = "Only instructors and the studio owner can book a student in. Request the lesson instead."
STAFF_BOOK_OTHERS = "Instructors can book students into their own lessons only. Ask the studio owner for others."
STAFF_BOOK_NO_STUDENT = "We could not find that student. Choose one from the list, or add a new student."
STAFF_BOOK_NOT_A_STUDENT = ("{email} belongs to an instructor or owner account, not a student. "
                            "Use the student's own address.")
STAFF_BOOK_OUTSIDE = ("That time is outside {name}'s availability. Choose a time inside a window on the schedule, "
                      "or add a window first.")
STAFF_BOOK_TAKEN = "{name} already has a lesson or a request at that time. Choose another time."
STAFF_BOOK_STUDENT_BUSY = "{name} has another lesson at that time. Choose another time."
STAFF_BOOK_ASKED_ALREADY = ("{name} already asked for this time. Confirm their request on the dashboard instead "
                            "of booking it again.")
STAFF_BOOK_OTHER_LENGTH = ("{name} is already booked at this time with a different lesson length. "
                           "Cancel that lesson first, then book again.")
STAFF_BOOK_CHOOSE_STUDENT = "Choose a student, or choose “A new student” and enter their name and email."
STAFF_BOOK_NEW_NAME = "Enter the new student's name (up to 120 characters)."
STAFF_BOOK_NEW_EMAIL = "Enter the new student's email address, like name@example.com."
STAFF_BOOK_NOT_BOOKED = "The lesson was not booked. Check the highlighted fields."
STAFF_BOOK_NO_SUCH_TIME = "That time does not exist on that date (the clocks change then). Choose another time."
STAFF_BOOK_NAIVE_START = "Give the start as an instant with its timezone, like 2026-02-05T14:00:00Z."
STAFF_BOOK_SERIES_NEW_STUDENT = ("Book a new student's first lesson on its own; once they are added, book their "
                                 "weekly lessons from the same form.")


def staff_repeat_choice(weeks: int) -> str:
    """Label one choice of the staff form's repeat menu: "Every week for 10 weeks"."""
    return f"Every week for {weeks} weeks"


def staff_series_done(student: str, booked: int, skipped: int) -> str:
    """Confirm a weekly lesson staff booked: how many lessons, and how many weeks were not open."""
    text = f"{student} is booked in for {plural(booked, 'weekly lesson')}, all confirmed; they were told by mail."
    if skipped:
        text += f" {plural(skipped, 'week')} could not be booked: see why below."
    return text


def booked_in_for_student(staff: str, instructor: str | None, when: str) -> str:
    """Tell a student they were booked in (instructor None: staff booked their own lesson)."""
    with_whom = f" with {instructor}" if instructor else ""
    return f"{staff} booked you in for a lesson{with_whom} on {when}. It is confirmed."


def booked_in_for_instructor(staff: str, student: str, when: str) -> str:
    """Tell an instructor the owner booked one of their lessons."""
    return f"{staff} booked {student} in for a lesson with you on {when}."


def booked_in_done(student: str, when: str, invited: bool) -> str:
    """Confirm a staff booking on the page: whom, when, and how they were told."""
    told = ("They get an invitation to set a password and a mail with the calendar invitation."
            if invited else "They were told in the app and by mail with a calendar invitation.")
    return f"{student} is booked in for {when}. {told}"


# --- students and lesson notes ------------------------------------------------------------------------

STUDENTS_TITLE = "Students"
STUDENT_NOTE_SAVED = "Saved the note and colour."
STUDENT_NOT_FOUND = "We could not find that student among your students. Open them from your students list."
STUDENTS_FORBIDDEN = "Only instructors and the studio owner keep a students list."
STUDENTS_OF_OTHERS = "You can see only your own students. The studio owner sees every instructor's."
CHOOSE_INSTRUCTOR = "Choose whose student this is: the note and colour belong to one instructor."
NOT_AN_INSTRUCTOR = "That person does not teach here. Choose an instructor from the list."
LESSON_NOTES_SAVED = "Lesson notes saved."
LESSON_NOTES_SAVED_MAILED = "Lesson notes saved. {name} was sent the summary."
LESSON_NOTES_UNCHANGED = "Nothing changed in the lesson notes."
LESSON_NOTES_FORBIDDEN = "Only the lesson's instructor or the studio owner can write lesson notes."
NO_COLOUR = "No colour"
# History lines on the booking page: "<person> <words>".
LESSON_NOTE_VERBS = {"summary": "updated the lesson summary", "private_note": "updated the private note"}
LESSON_NOTE_CLEARED = {"summary": "cleared the lesson summary", "private_note": "cleared the private note"}


def lesson_summary_notice(instructor: str, when: str) -> str:
    """Tell a student their lesson has a (new) summary: "Ada wrote notes on your lesson of Thu 5 Feb at 2:00 PM"."""
    return f"{instructor} wrote notes on your lesson of {when}. Read them on the booking page."


def students_count(count: int) -> str:
    """Say how many students a list holds: "3 students"."""
    return plural(count, "student")


def text_too_long(label: str, most: int) -> str:
    """Refuse a text over its length: "Keep the private note under 4,000 characters."."""
    return f"Keep the {label} to {most:,} characters or fewer."


# --- standing weekly lessons (series) -----------------------------------------------------------------

SERIES_MAX_WEEKS_RANGE = "Enter between 0 and 52 weeks (0 turns weekly lessons off)."
TIME_UNREADABLE = "That time could not be read. Go back to the calendar and select a time again."
SERIES_OFF = "Weekly lessons are turned off in this studio. Request single lessons instead."
SERIES_WEEKS_RANGE = "Choose between 1 and {maximum} weeks."
SERIES_NOTHING_OPEN = "None of those weeks is open, so nothing was requested. Choose another time or fewer weeks."
SERIES_STUDENT_ONLY = "Only the instructor or the studio owner can book a student in. Leave out the student to book for yourself."
SERIES_NO_STUDENT = "We could not find that student. Choose an active student and try again."
SERIES_NOT_FOUND = "We could not find that weekly lesson. Check the link, or open it from your bookings."
SERIES_NOTHING_PENDING = "This weekly lesson has no requests waiting for an answer. Reload the page to see where it stands."
SERIES_NOT_IN_SERIES = "Choose lessons of this weekly lesson only."
SERIES_STAFF_ONLY = "Only the instructor or the studio owner can do this."
SERIES_NOTHING_TO_CANCEL = "There are no lessons left to cancel from that date. Reload the page to see where it stands."
SERIES_NOTHING_RENEWED = "None of the next weeks is open, so nothing was added. Check the availability and try again."
SERIES_ASK_ANSWER = "Answer the waiting requests first, then add more weeks."

# Why a week is skipped, by reason (domain/series.py Skip): one sentence each, naming the date.
SERIES_SKIP: dict[str, str] = {
    "blocked": "{day}: the instructor is away (blocked).",
    "taken": "{day}: that time is already booked.",
    "unavailable": "{day}: outside the instructor's availability.",
    "too_soon": "{day}: too soon to book.",
    "student_busy": "{day}: the student already has a lesson at that time.",
}
SERIES_SKIP_LABELS: dict[str, str] = {
    "blocked": "Blocked", "taken": "Taken", "unavailable": "Outside availability", "too_soon": "Too soon",
    "student_busy": "Student busy",
}


def series_skip(reason: str, on: date) -> str:
    """Say why one week of a series is skipped: "Tue 10 Mar 2026: the instructor is away (blocked)."."""
    return SERIES_SKIP[reason].format(day=day(on, "day_year"))


def series_summary(weekday_name: str, at: str, weeks: int) -> str:
    """Name a series: "Tuesdays at 5:00 PM, 10 weeks"."""
    return f"{weekday_name}s at {at}, {plural(weeks, 'week')}"


def series_requested(student: str, summary: str, count: int) -> str:
    """Tell the instructor of a new series request (one notification for all its weeks)."""
    return f"{student} requested a weekly lesson: {summary} ({plural(count, 'lesson')} to answer)."


def series_booked(staff: str, summary: str, count: int) -> str:
    """Tell the student staff booked them into a weekly lesson."""
    return f"{staff} booked you into a weekly lesson: {summary} ({plural(count, 'lesson')})."


def series_decided(staff: str, summary: str, confirmed: int, declined: int) -> str:
    """Tell the student how their weekly request was answered."""
    parts = []
    if confirmed:
        parts.append(f"confirmed {plural(confirmed, 'lesson')}")
    if declined:
        parts.append(f"declined {plural(declined, 'lesson')}")
    return f"{staff} {' and '.join(parts)} of your weekly lesson ({summary})."


def series_cancelled(actor: str, summary: str, cancelled: int, kept: int) -> str:
    """Tell the other person that lessons of a series were cancelled."""
    text = f"{actor} cancelled {plural(cancelled, 'lesson')} of the weekly lesson ({summary})."
    if kept:
        text += f" {plural(kept, 'lesson')} inside the cancellation window {'stays' if kept == 1 else 'stay'} booked."
    return text


def series_renewed(actor: str, summary: str, added: int) -> str:
    """Tell the other person that a series runs for more weeks."""
    return f"{actor} added {plural(added, 'week')} to the weekly lesson ({summary})."


def series_expired(first: str, instructor: str, count: int) -> str:
    """Tell the student a whole weekly request expired: one sentence for all its weeks."""
    return (f"Your weekly lesson request with {instructor} from {first} ({plural(count, 'lesson')}) expired "
            "without an answer. Choose another time on the booking page.")

SERIES_HISTORY_NOTE = "One week of a weekly lesson."
SERIES_RENEW_NOTE = "Added when the weekly lesson was renewed."
SERIES_SENT = "Weekly request sent. Your instructor answers it in one step; the times are held for you meanwhile."
SERIES_ALREADY = "You already requested this weekly lesson. Here it is."
SERIES_ANSWERED = "Answer saved. The student has been told in one message."
SERIES_REPEAT_ONCE = "Just this lesson"


def series_cancel_done(cancelled: int, kept: int) -> str:
    """Confirm a "this and all later ones" cancellation, naming what the window kept."""
    text = f"{plural(cancelled, 'lesson')} cancelled. The other side has been told."
    if kept:
        text += (f" {plural(kept, 'lesson')} inside the cancellation window {'stays' if kept == 1 else 'stay'} booked; "
                 f"contact your instructor about {'it' if kept == 1 else 'them'}.")
    return text


def series_renew_done(added: int, skipped: int) -> str:
    """Confirm a renewal."""
    text = f"{plural(added, 'week')} added."
    if skipped:
        text += f" {plural(skipped, 'week')} could not be booked; see the list below."
    return text
