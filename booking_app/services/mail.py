"""Email: queued as durable effects, rendered in the recipient's timezone, sent by SMTP or written to the outbox."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.exc import IntegrityError

from .. import wording
from ..domain.bookings import Status, effective_status
from ..extensions import db
from ..models import Booking, Effect, Message, MessageRead, User
from . import action_tokens, clock, effects

log = logging.getLogger(__name__)

# Mail kinds a user can switch off, with the words the preferences page shows.
EMAIL_KINDS: dict[str, str] = {
    "requests": "New lesson requests (instructors)",
    "decisions": "Confirmations, declines, expiries and cancellations",
    "messages": "New messages in a booking's thread",
    "reminders": "Reminders 24 hours and 1 hour before a lesson",
    "lesson_notes": "Lesson summaries and homework from your instructor",
}

# template name -> (preference kind, subject pattern)
TEMPLATES: dict[str, tuple[str, str]] = {
    "request_received": ("requests", "New lesson request from {other} for {when}"),
    "booking_confirmed": ("decisions", "Confirmed: your lesson with {other} on {when}"),
    "booking_declined": ("decisions", "Declined: your lesson request with {other} for {when}"),
    "booking_expired": ("decisions", "Expired: your lesson request with {other} for {when}"),
    "booking_cancelled": ("decisions", "Cancelled: your lesson with {other} on {when}"),
    "booking_moved": ("decisions", "Moved: your lesson with {other} is now {when}"),
    "messages": ("messages", "New message from {other} about your lesson on {when}"),
    "reminder_24h": ("reminders", "Tomorrow: your lesson with {other} at {when}"),
    "reminder_1h": ("reminders", "In one hour: your lesson with {other} at {when}"),
    "booking_booked": ("decisions", "Booked in: your lesson with {other} on {when}"),
    "lesson_summary": ("lesson_notes", "Lesson notes from {other}: your lesson on {when}"),
    # A weekly series (the booking is its first lesson the action touched; the mail lists them all).
    "series_requested": ("requests", "New weekly lesson request from {other}, from {when}"),
    "series_booked": ("decisions", "Booked: your weekly lesson with {other} from {when}"),
    "series_decided": ("decisions", "Answered: your weekly lesson request with {other}"),
    "series_cancelled": ("decisions", "Cancelled: lessons of your weekly lesson with {other}"),
    "series_expired": ("decisions", "Expired: your weekly lesson request with {other}"),
}
# Mail about a person's account rather than a booking (always sent: no preference turns these off).
# template -> subject pattern, filled from the mail's context.
ACCOUNT_TEMPLATES: dict[str, str] = {
    "invitation": "{inviter} invited you to {studio}",
    # passwords and the sign-in address
    "password_reset": "Choose a new password for {studio}",
    "password_changed": "Your password for {studio} was changed",
    "address_confirm": "Confirm your new sign-in address for {studio}",
    "address_change_notice": "Your sign-in address for {studio} is about to change",
}
MESSAGE_MAIL_DELAY = timedelta(minutes=2)
MESSAGE_MAIL_SPACING = timedelta(minutes=10)


def wants(user: User, template: str) -> bool:
    """Whether the user wants this kind of mail."""
    kind = TEMPLATES[template][0]
    return user.active and kind not in (user.email_opt_out or [])


def queue_mail(user_id: int, template: str, booking_id: int, *, due_at: datetime | None = None,
               dedupe_key: str | None = None, flush: bool = True) -> None:
    """Queue one mail as an effect of the current transaction (the caller commits)."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown mail template {template!r}")
    payload = {"user_id": user_id, "template": template, "booking_id": booking_id}
    if dedupe_key is None:
        effects.schedule("mail", payload, due_at=due_at, flush=flush)
        return
    # The unique key makes a second request for the same mail a no-op, even across processes.
    if db.session.scalar(sa.select(Effect.id).where(Effect.dedupe_key == dedupe_key)) is not None:
        return
    try:
        with db.session.begin_nested():
            effects.schedule("mail", payload, due_at=due_at, dedupe_key=dedupe_key)
    except IntegrityError:
        pass


def set_preferences(user: User, enabled: set[str]) -> User:
    """Store which mail kinds the user wants."""
    unknown = enabled - EMAIL_KINDS.keys()
    if unknown:
        from . import ServiceError

        raise ServiceError("Choose mail kinds from the list.", field="email")
    user.email_opt_out = sorted(EMAIL_KINDS.keys() - enabled)
    db.session.commit()
    return user




# template -> the effective status the booking must still have when the mail is sent.
STILL_NEEDS: dict[str, str] = {
    "request_received": "pending",
    "booking_confirmed": "confirmed",
    "booking_booked": "confirmed",
    "reminder_24h": "confirmed",
    "reminder_1h": "confirmed",
}


def still_fits(template: str, booking: Booking, now: datetime | None = None) -> bool:
    """Whether a queued mail still fits the booking: reminders need a confirmed lesson yet to start, etc."""
    needed = STILL_NEEDS.get(template)
    if needed is None:
        return True
    now = now or clock.now()
    status = effective_status(Status(booking.status), booking.expires_at, booking.ends_at, now)
    if status.value != needed:
        return False
    return not template.startswith("reminder_") or booking.starts_at > now


def compose(user: User, template: str, booking: Booking, now: datetime | None = None) -> EmailMessage | None:
    """Build the mail for a user about a booking, or None when it is no longer worth sending."""
    if not wants(user, template) or not still_fits(template, booking, now):
        return None
    if template == "lesson_summary" and (user.id != booking.student_id or not booking.lesson_summary):
        return None  # cleared meanwhile; and only the student is mailed the summary
    other = booking.instructor if user.id == booking.student_id else booking.student
    context: dict[str, Any] = {
        "recipient": user,
        "booking": booking,
        "other": other,
        "when": wording.when_with_zone(booking.starts_at, user.timezone),
        "ends": wording.when_with_zone(booking.ends_at, user.timezone),
        "url": f"{current_app.config['BASE_URL']}/bookings/{booking.id}",
        "studio": current_app.config.get("STUDIO_NAME_OVERRIDE") or _studio_name(),
        # Accept/Decline for the instructor's request mail, Reschedule/Cancel (or the policy) for the student's.
        "actions": action_tokens.for_mail(template, booking, user, now),
        # Who booked the lesson in (the first history row's actor), for the "booked in" mail.
        "booked_by": booking.history[0].actor if template == "booking_booked" and booking.history else None,
    }
    if template.startswith("series_") and booking.series_id is not None:
        context["lessons"] = _series_lessons(booking.series_id, user.timezone, now)
        context["url"] = f"{current_app.config['BASE_URL']}/series/{booking.series_id}"
    if template == "messages":
        unread = _unread_messages(user, booking)
        if not unread:
            return None  # read meanwhile: no mail
        context["messages"] = unread
    subject = TEMPLATES[template][1].format(other=other.name, when=context["when"])
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = current_app.config["SMTP_FROM"]
    mail["To"] = formataddr((user.name, user.email))
    mail["Message-ID"] = make_msgid(domain="booking.local")
    text = render_template(f"mail/{template}.txt", **context)
    mail.set_content(text)
    # The HTML part escapes the rendered text (notes and messages are user input); action links become buttons.
    html_text = render_template(f"mail/{template}.txt", **context, for_html=True) if context["actions"].links else text
    mail.add_alternative(render_template("mail/base.html", text_body=str(html_text), **context), subtype="html")
    if template in ("booking_confirmed", "booking_cancelled", "booking_moved", "booking_booked"):
        from ..ics import invitation

        method = "CANCEL" if template == "booking_cancelled" else "REQUEST"
        mail.add_attachment(
            invitation(booking, method=method, url=context["url"]).encode(),
            maintype="text",
            subtype="calendar",
            filename="cancel.ics" if method == "CANCEL" else "invite.ics",
            params={"method": method},
        )
    return mail


def _series_lessons(series_id: int, tz: str, now: datetime | None) -> list[tuple[str, str]]:
    """Return (when, status label) for every lesson of a series, in the reader's zone."""
    rows = db.session.scalars(
        sa.select(Booking).where(Booking.series_id == series_id).order_by(Booking.starts_at)
    ).unique().all()
    moment = now or clock.now()
    return [
        (wording.when_with_zone(b.starts_at, tz),
         wording.status_label(effective_status(Status(b.status), b.expires_at, b.ends_at, moment).value))
        for b in rows
    ]


def _mail_domain() -> str:
    sender = str(current_app.config.get("SMTP_FROM") or "")
    return sender.rsplit("@", 1)[-1].strip("> ") if "@" in sender else "booking.local"


def _studio_name() -> str:
    from .studio import studio_name

    return studio_name()


def _unread_messages(user: User, booking: Booking) -> list[Message]:
    last_read = db.session.scalar(
        sa.select(MessageRead.last_read_message_id).where(MessageRead.user_id == user.id, MessageRead.booking_id == booking.id)
    ) or 0
    return list(db.session.scalars(
        sa.select(Message).where(Message.booking_id == booking.id, Message.id > last_read, Message.sender_id != user.id)
        .order_by(Message.id)
    ))


SMTP_TIMEOUT = 10  # seconds per SMTP step; well inside an effect's claim


def deliver(mail: EmailMessage, before_handing_over: Callable[[], bool] = lambda: True) -> bool:
    """Send a mail through SMTP when configured, else write it to the outbox folder; return whether it went.

    `before_handing_over` runs once the server is reached and just before the mail is handed over; answering
    False (an earlier attempt already handed it over) sends nothing.
    """
    config = current_app.config
    if config.get("SMTP_HOST"):
        mode = config.get("SMTP_TLS", "starttls")
        port = int(config.get("SMTP_PORT") or 587)
        if mode == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config["SMTP_HOST"], port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(config["SMTP_HOST"], port, timeout=SMTP_TIMEOUT)
        with smtp:
            if mode == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
            if not before_handing_over():
                return False
            smtp.send_message(mail)
        return True
    if not before_handing_over():
        return False
    outbox = Path(config["OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
    (outbox / f"{stamp}-{abs(hash(mail['Message-ID']))}.eml").write_bytes(mail.as_bytes())
    return True


def send_mail_effect(payload: dict[str, Any]) -> None:
    """Effect handler: compose one queued mail now and deliver it, unless it no longer fits."""
    user = db.session.get(User, payload["user_id"])
    booking = db.session.get(Booking, payload["booking_id"])
    if user is None or booking is None:
        return
    mail = compose(user, payload["template"], booking)
    if mail is not None:
        _deliver_once(mail, payload["template"])


def _deliver_once(mail: EmailMessage, template: str) -> None:
    """Deliver the mail of the running effect, under a Message-ID that every attempt of that effect shares."""
    effect_id = effects.running_effect()
    if effect_id is not None:
        # The same id on every attempt, so a receiving system can tell a repeat from a new mail.
        del mail["Message-ID"]
        mail["Message-ID"] = f"<effect-{effect_id}.{template}@{_mail_domain()}>"
    if not deliver(mail, effects.begin_irreversible):
        log.warning("mail of effect %s not sent again: an earlier attempt already handed it over", effect_id)


def queue_account_mail(email: str, name: str, template: str, context: dict[str, str]) -> None:
    """Queue one account mail (a reset link, an invitation…) as an effect of the current transaction.

    The context is rendered when the mail is sent; it holds plain strings (a link with its secret, a name),
    because the secret is not kept anywhere else.
    """
    if template not in ACCOUNT_TEMPLATES:
        raise ValueError(f"unknown account mail template {template!r}")
    effects.schedule("account_mail", {"email": email, "name": name, "template": template, "context": dict(context)})


def compose_account_mail(email: str, name: str, template: str, context: dict[str, str]) -> EmailMessage:
    """Build an account mail: plain text and HTML, the studio's name, an optional button (`action_url`)."""
    values: dict[str, Any] = {"name": name, "studio": current_app.config.get("STUDIO_NAME_OVERRIDE") or _studio_name(),
                              **context}
    mail = EmailMessage()
    mail["Subject"] = ACCOUNT_TEMPLATES[template].format(**values)
    mail["From"] = current_app.config["SMTP_FROM"]
    mail["To"] = formataddr((name, email))
    mail["Message-ID"] = make_msgid(domain="booking.local")
    text = render_template(f"mail/{template}.txt", **values)
    mail.set_content(text)
    mail.add_alternative(render_template("mail/base.html", text_body=str(text), studio=values["studio"],
                                         url=values.get("action_url"), button=values.get("action_label"),
                                         account_mail=True), subtype="html")
    return mail


def send_account_mail_effect(payload: dict[str, Any]) -> None:
    """Effect handler: compose a queued account mail and deliver it once."""
    mail = compose_account_mail(payload["email"], payload["name"], payload["template"], payload["context"])
    _deliver_once(mail, payload["template"])


def queue_message_mail(booking_id: int, recipient_id: int, now: datetime | None = None) -> None:
    """Queue the batched 'new messages' mail: at most one per thread and recipient per 10 minutes."""
    now = now or clock.now()
    prefix = f"messages:{booking_id}:{recipient_id}:"
    last = db.session.scalars(
        sa.select(Effect).where(Effect.kind == "mail", Effect.dedupe_key.startswith(prefix))
        .order_by(Effect.due_at.desc()).limit(1)
    ).first()
    if last is not None and last.done_at is None:
        return  # the mail already waiting will carry this message too
    due_at = now + MESSAGE_MAIL_DELAY
    if last is not None and last.due_at + MESSAGE_MAIL_SPACING > due_at:
        due_at = last.due_at + MESSAGE_MAIL_SPACING
    queue_mail(recipient_id, "messages", booking_id, due_at=due_at, dedupe_key=f"{prefix}{int(due_at.timestamp())}")


def queue_reminders(now: datetime) -> int:
    """Queue the 24-hour and 1-hour reminders of confirmed lessons (once each, for both parties)."""
    rows = db.session.execute(
        sa.select(Booking.id, Booking.student_id, Booking.instructor_id, Booking.starts_at).where(
            Booking.status == Status.CONFIRMED.value, Booking.starts_at > now, Booking.starts_at <= now + timedelta(hours=24)
        )
    ).all()
    queued = 0
    for row in rows:
        left = row.starts_at - now
        template = "reminder_1h" if left <= timedelta(hours=1) else "reminder_24h"
        if template == "reminder_24h" and left <= timedelta(hours=2):
            continue  # the 1-hour reminder is close; one mail is enough
        for user_id in (row.student_id, row.instructor_id):
            key = f"{template}:{row.id}:{user_id}:{int(row.starts_at.timestamp())}"
            if db.session.scalar(sa.select(Effect.id).where(Effect.dedupe_key == key)) is None:
                queue_mail(user_id, template, row.id, dedupe_key=key)
                queued += 1
    db.session.commit()
    return queued
