"""Accounts: sign-up, creation by the owner, roles, deactivation and deletion."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import wording
from ..domain.audit import AuditAction
from ..domain.bookings import Role, Status
from ..domain.links import LinkPurpose
from ..domain.timeutil import is_valid_timezone
from ..extensions import db
from ..models import (
    AccessLink,
    Block,
    Booking,
    InstructorSettings,
    MessageRead,
    Notification,
    OneTimeWindow,
    StudentNote,
    User,
    WeeklyWindow,
)
from ..realtime import calendar_channel, publish, user_channel
from . import ServiceError, audit, bookings, clock, links
from .booking_filters import active_ahead, open_request
from .sessions import end_all_sessions, revoke_all_tokens

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def normalize_email(email: str) -> str:
    """Return the canonical (trimmed, lower-case) form of an email address."""
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    """Return the user with this email, if any."""
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def _check_fields(email: str, name: str, password: str | None, timezone: str) -> None:
    if not EMAIL_RE.match(email):
        raise ServiceError("Enter a valid email address, like name@example.com.", field="email")
    if not 1 <= len(name.strip()) <= 120:
        raise ServiceError("Enter your name (up to 120 characters).", field="name")
    if password is not None and len(password) < MIN_PASSWORD:
        raise ServiceError(f"Choose a password of at least {MIN_PASSWORD} characters.", field="password")
    if not is_valid_timezone(timezone):
        raise ServiceError("Choose a timezone from the list, like Europe/London.", field="timezone")


def create_user(
    *, email: str, name: str, password: str, role: str = Role.STUDENT.value, timezone: str = "UTC"
) -> User:
    """Create an account (and instructor settings for teaching roles) in one transaction."""
    try:
        user = add_user(email=email, name=name, password=password, role=role, timezone=timezone)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _email_taken() from None
    return user


def add_user(*, email: str, name: str, password: str, role: str, timezone: str) -> User:
    """Add an account to the caller's transaction (flushed, not committed); refuse a taken address with 409."""
    email = normalize_email(email)
    if role not in {r.value for r in Role}:
        raise ServiceError("Choose a role: owner, instructor or student.", field="role")
    _check_fields(email, name, password, timezone)
    if find_user_by_email(email) is not None:
        raise _email_taken()
    user = User(email=email, name=name.strip(), role=Role(role), timezone=timezone, active=True)
    user.set_password(password)
    db.session.add(user)
    if role != Role.STUDENT.value:
        user.instructor_settings = InstructorSettings(timezone=timezone)
    db.session.flush()
    return user


def _email_taken() -> ServiceError:
    return ServiceError(
        "An account with this email already exists. Sign in instead, or use another email.",
        code="email_taken",
        status=409,
        field="email",
    )


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = find_user_by_email(email)
    if user is None or not user.check_password(password):
        return None
    return user


def update_profile(user: User, *, name: str, timezone: str) -> User:
    """Change a user's display name and timezone."""
    _check_fields(user.email, name, None, timezone)
    user.name = name.strip()
    user.timezone = timezone
    publish([user_channel(user.id)], "profile.updated", {"name": user.name, "timezone": timezone})
    db.session.commit()
    return user


def change_role(user: User, role: str, *, acting: User) -> User:
    """Give a user another role (owner only); keeps at least one active owner."""
    if role not in {r.value for r in Role}:
        raise ServiceError("Choose a role: owner, instructor or student.", field="role")
    _refuse_deleted(user)
    if user.role == Role.OWNER and role != Role.OWNER and _active_owner_count() <= 1:
        raise ServiceError("The studio needs at least one owner. Make someone else owner first.", code="last_owner")
    old = Role(user.role).value
    user.role = Role(role)
    if old != role:
        audit.record(acting, AuditAction.ROLE_CHANGED, subject=user, detail={"from": old, "to": role})
    if role != Role.STUDENT and user.instructor_settings is None:
        user.instructor_settings = InstructorSettings(timezone=user.timezone)
    db.session.commit()
    return user


@dataclass(frozen=True)
class AccountChange:
    """What deactivating an account did: requests released, and the lessons the owner still has to see to."""

    user: User
    released: int = 0
    lessons_ahead: list[Booking] = field(default_factory=list)


STUDENT_LEFT = "The student's account was closed."
INSTRUCTOR_LEFT = "The instructor is no longer taking lessons here."


def set_active(user: User, active: bool, *, acting: User, now: datetime | None = None) -> AccountChange:
    """Deactivate or reactivate an account (owner only); an owner cannot lock themselves out.

    Deactivating ends the person's sessions and tokens and frees every slot their pending requests hold:
    a student's are cancelled (their instructors are told), an instructor's are declined (the students are told).
    Their confirmed lessons stay; the owner is shown the ones ahead.
    """
    if not active and user.id == acting.id:
        raise ServiceError("You cannot deactivate your own account.", code="self_deactivate")
    if not active and user.role == Role.OWNER and _active_owner_count() <= 1:
        raise ServiceError("The studio needs at least one active owner.", code="last_owner")
    _refuse_deleted(user)
    now = now or clock.now()
    changed = user.active != active
    user.active = active
    if not active:
        _lock_out(user)
    if changed:
        action = AuditAction.ACCOUNT_REACTIVATED if active else AuditAction.ACCOUNT_DEACTIVATED
        audit.record(acting, action, subject=user)
    db.session.commit()
    if active:
        return AccountChange(user)
    released = 0
    for booking in _own_bookings_ahead(user, now, lessons_too=False):
        try:
            if booking.student_id == user.id:
                bookings.cancel(acting, booking.id, STUDENT_LEFT, now)
            else:
                bookings.decline(acting, booking.id, INSTRUCTOR_LEFT, now)
        except ServiceError:
            continue  # answered or withdrawn a moment ago: it no longer holds its slot either way
        released += 1
    ahead = [b for b in bookings.list_for(user, status=Status.CONFIRMED, starts_from=now, now=now)
             if b.instructor_id == user.id]
    return AccountChange(user, released, ahead)


def _refuse_deleted(user: User) -> None:
    if user.is_deleted:
        raise ServiceError("This account was deleted by the person it belonged to, so it cannot be changed.", code="deleted", status=409)


def _lock_out(user: User) -> None:
    """End every browser session and API token of the user with the caller's commit."""
    end_all_sessions(user, commit=False)
    revoke_all_tokens(user, commit=False)


def _own_bookings_ahead(user: User, now: datetime, *, lessons_too: bool) -> list[Booking]:
    """Return the user's own open requests (and, with `lessons_too`, confirmed lessons not yet started), by start.

    Only bookings the user is a party to: an owner's view of everyone's bookings is not theirs to release.
    """
    holding = active_ahead(now) if lessons_too else open_request(now)
    query = sa.select(Booking).where(
        sa.or_(Booking.student_id == user.id, Booking.instructor_id == user.id), holding,
    )
    if lessons_too:
        query = query.where(Booking.starts_at > now)
    return list(db.session.scalars(query.order_by(Booking.starts_at, Booking.id)).unique())


@dataclass(frozen=True)
class Deletion:
    """What deleting an account did: how many requests and lessons ahead were cancelled."""

    cancelled: int


WRONG_PASSWORD = "That password is not right. Enter the password you sign in with to delete your account."
LAST_OWNER = ("You are the studio's only owner. Make someone else owner on the People page first, "
              "then delete your account.")


def delete_account(user: User, password: str, now: datetime | None = None) -> Deletion:
    """Delete the user's own account in one transaction, keeping the bookings' history whole.

    Every request and lesson ahead is cancelled whatever the cancellation window, and the other person is told
    (in the app and by the usual cancellation mail). Name and email are erased; password, sessions, API tokens,
    the calendar feed and open links stop working; an instructor's availability goes. Messages stay for the other
    person, shown as from "Deleted user". The last active owner is refused until someone else is owner.
    """
    if user.is_deleted:
        raise ServiceError("This account is already deleted.", code="deleted", status=409)
    if not password or not user.check_password(password):
        raise ServiceError(WRONG_PASSWORD, code="wrong_password", status=403, field="password")
    if user.role == Role.OWNER and _active_owner_count() <= 1:
        raise ServiceError(LAST_OWNER, code="last_owner", status=409)
    now = now or clock.now()
    cancelled = 0
    for booking in _own_bookings_ahead(user, now, lessons_too=True):
        side = "student" if booking.student_id == user.id else "instructor"
        if bookings.cancel_for_leaver(user, booking, wording.LEAVER_CANCEL_REASON[side], now):
            cancelled += 1
    audit.record(user, AuditAction.ACCOUNT_DELETED, subject=user,
                 detail={"role": Role(user.role).value, "cancelled": cancelled})
    _erase(user, now)
    db.session.commit()
    return Deletion(cancelled)


def _erase(user: User, now: datetime) -> None:
    """Blank what identifies the person; keep the row so bookings, messages and history still point somewhere."""
    for purpose in LinkPurpose:
        links.revoke_open(purpose, user=user)
    db.session.execute(sa.update(AccessLink).where(AccessLink.user_id == user.id).values(email=""))
    _lock_out(user)
    if user.teaches:
        for model in (WeeklyWindow, OneTimeWindow, Block):
            db.session.execute(sa.delete(model).where(model.instructor_id == user.id))
        if user.instructor_settings is not None:
            user.instructor_settings.bio = ""
        publish([calendar_channel(user.id)], "availability.changed", {"instructor_id": user.id})
    # Their own notifications and read markers are about other people's bookings and of use to nobody now.
    db.session.execute(sa.delete(Notification).where(Notification.user_id == user.id))
    db.session.execute(sa.delete(MessageRead).where(MessageRead.user_id == user.id))
    # What staff kept about the person as a student (and, as an instructor, about their students) goes with them.
    db.session.execute(sa.delete(StudentNote).where(
        sa.or_(StudentNote.student_id == user.id, StudentNote.instructor_id == user.id)))
    user.name = wording.DELETED_USER
    # A unique address on the reserved .invalid domain: nothing can be delivered to it, nobody can own it.
    user.email = f"deleted-{user.id}-{secrets.token_hex(4)}@deleted.invalid"
    user.password_hash = "!"  # matches no password: werkzeug refuses a hash without a method
    user.feed_token = None
    user.email_opt_out = []
    user.timezone = "UTC"
    user.active = False
    user.deleted_at = now


def _active_owner_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.role == Role.OWNER, User.active.is_(True))
    ) or 0
