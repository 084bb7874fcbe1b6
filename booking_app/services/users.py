"""Accounts: sign-up, creation by the owner, roles and deactivation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..domain.bookings import Role, Status
from ..domain.timeutil import is_valid_timezone
from ..extensions import db
from ..models import Booking, InstructorSettings, User
from ..realtime import publish, user_channel
from . import ServiceError, bookings, clock
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
    if user.role == Role.OWNER and role != Role.OWNER and _active_owner_count() <= 1:
        raise ServiceError("The studio needs at least one owner. Make someone else owner first.", code="last_owner")
    user.role = Role(role)
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
    now = now or clock.now()
    user.active = active
    if not active:
        # Every browser and program signed in as them stops working with this commit.
        end_all_sessions(user, commit=False)
        revoke_all_tokens(user, commit=False)
    db.session.commit()
    if active:
        return AccountChange(user)
    released = 0
    for booking in bookings.list_for(user, status=Status.PENDING, now=now):
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


def _active_owner_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.role == Role.OWNER, User.active.is_(True))
    ) or 0
