"""Personal booking links: an instructor gives a student a link to their book page, and can renew or withdraw it.

The link's secret is derived from SECRET_KEY and a random nonce kept with the link, so the instructor's page can
show the link again while the database alone (which holds only the nonce and the secret's hash) opens nothing.
A link signs nobody in: it leads to the instructor's book page, where booking needs the student's account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from .. import wording
from ..domain.bookings import Role
from ..domain.links import LinkPurpose, LinkState
from ..extensions import db
from ..models import AccessLink, Booking, User
from . import ServiceError, links
from .sessions import hash_secret
from .users import find_user_by_email

PURPOSE = LinkPurpose.BOOKING_PAGE


@dataclass(frozen=True)
class LinkRow:
    """One student on the instructor's links page, with their working link if they have one."""

    student: User
    link: AccessLink | None
    url: str | None
    last_used: str
    created: str


@dataclass
class LinksPage:
    """The instructor's personal links page: every student they know, with links to copy."""

    instructor: User
    rows: list[LinkRow]


@dataclass(frozen=True)
class Visit:
    """Where a personal link leads, and for whom it was made."""

    instructor_id: int
    instructor_name: str
    student_name: str
    for_viewer: bool


def _secret(nonce: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"booking-page:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def link_url(link: AccessLink) -> str | None:
    """Return a working link's address, or None when it cannot be rebuilt (SECRET_KEY changed: renew it)."""
    nonce = str(link.data.get("nonce") or "")
    if not nonce:
        return None
    secret = _secret(nonce)
    if not hmac.compare_digest(hash_secret(secret), link.token_hash):
        return None
    return f"{current_app.config['BASE_URL']}/with/{secret}"


def _working(instructor: User) -> dict[int, AccessLink]:
    """Return the instructor's working personal links, by student id."""
    found: dict[int, AccessLink] = {}
    rows = db.session.scalars(
        sa.select(AccessLink).where(AccessLink.purpose == PURPOSE, AccessLink.revoked_at.is_(None),
                                    AccessLink.created_by_id == instructor.id, AccessLink.user_id.is_not(None))
        .order_by(AccessLink.id)
    )
    for link in rows:
        if link.data.get("instructor_id") == instructor.id and link.user_id is not None:
            found[link.user_id] = link
    return found


def _known(instructor: User, extra: set[int] | frozenset[int] = frozenset()) -> list[User]:
    """Return the active people who booked with the instructor, and those holding one of their links."""
    booked = sa.select(Booking.student_id).where(Booking.instructor_id == instructor.id)
    return list(db.session.scalars(
        sa.select(User).where(sa.or_(User.id.in_(booked), User.id.in_(extra)), User.active, User.id != instructor.id)
        .order_by(User.name, User.id)
    ))


def links_page(instructor: User, tz: str) -> LinksPage:
    """Build the links page: each student the instructor knows, their link, when it was made and last opened."""
    working = _working(instructor)
    rows = []
    for student in _known(instructor, set(working)):
        link = working.get(student.id)
        rows.append(LinkRow(
            student=student, link=link, url=link_url(link) if link else None,
            last_used=wording.last_used(link.last_used_at if link else None, tz),
            created=wording.moment(link.created_at, tz, "day_year_time") if link else "",
        ))
    return LinksPage(instructor, rows)


def _student(instructor: User, student_id: int | None, email: str | None) -> User:
    if email is not None:
        student = find_user_by_email(email)
        if student is None or not student.active or student.role != Role.STUDENT:
            raise ServiceError(wording.BOOKING_LINK_UNKNOWN_STUDENT, "unknown_student", 404, field="email")
        return student
    known = {s.id: s for s in _known(instructor, set(_working(instructor)))}
    if student_id not in known:
        raise ServiceError(wording.BOOKING_LINK_NOT_YOURS, "not_found", 404)
    return known[student_id]


def give_link(instructor: User, *, student_id: int | None = None, email: str | None = None) -> User:
    """Make a new personal link for a student (by id, or an active student by email); any older one stops working."""
    student = _student(instructor, student_id, email)
    links.revoke_open(PURPOSE, user=student, data_key="instructor_id", data_value=instructor.id)
    nonce = secrets.token_urlsafe(18)
    links.issue(PURPOSE, user=student, created_by=instructor, secret=_secret(nonce),
                data={"instructor_id": instructor.id, "nonce": nonce})
    db.session.commit()
    return student


def revoke_link(instructor: User, student_id: int) -> User:
    """Withdraw a student's personal link to this instructor's page."""
    student = _student(instructor, student_id, None)
    if not links.revoke_open(PURPOSE, user=student, data_key="instructor_id", data_value=instructor.id):
        db.session.rollback()
        raise ServiceError(wording.BOOKING_LINK_NONE.format(name=student.name), "no_link", 409)
    db.session.commit()
    return student


def open_personal_link(secret: str | None, viewer: User | None) -> Visit:
    """Return where a personal link leads; note its use when its own student opens it signed in (else write nothing).

    Raise 410 with a sentence when the link was withdrawn, renewed or never existed.
    """
    link, state = links.look_up(PURPOSE, secret)
    if link is None or state is not LinkState.VALID:
        raise links.gone(state)
    instructor = db.session.get(User, link.data.get("instructor_id"))
    student = link.user
    if instructor is None or not instructor.active or not instructor.teaches or student is None or not student.active:
        raise links.gone(LinkState.REVOKED)
    for_viewer = viewer is not None and viewer.id == student.id
    if for_viewer:
        links.redeem(PURPOSE, secret)
        db.session.commit()
    return Visit(instructor.id, instructor.name, student.name, for_viewer)
