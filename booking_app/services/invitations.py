"""Invitations: the owner invites anyone and an instructor invites students (one by one, by CSV or from the CLI);
the invitee sets a password from the mailed link and has an account.

Each action is one public function and one transaction: invite, import_csv, resend, revoke, accept.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import wording
from ..domain import bounds
from ..domain.audit import AuditAction
from ..domain.bookings import Role
from ..domain.invitations import InvitationRow, payload_of, read_csv, read_payload
from ..domain.links import LinkPurpose, LinkState
from ..domain.timeutil import is_valid_timezone
from ..extensions import db
from ..models import AccessLink, User
from . import ServiceError, audit, clock, links, mail
from .studio import studio_name
from .users import EMAIL_RE, MIN_PASSWORD, add_user, normalize_email

PURPOSE = LinkPurpose.INVITATION
MAX_PASSWORD = 200

NOT_STAFF = "Only instructors and the studio owner can invite people."
STUDENTS_ONLY = "Instructors can invite students only. Ask the studio owner to invite instructors or owners."
NOT_FOUND = "We could not find that invitation. Reload the list and try again."
HAS_ACCOUNT = "{email} already has an account, so there is nothing to accept: they can sign in with it."
TAKEN_BY_OTHER = "{email} already has an open invitation from {inviter}. Ask them to resend it."
ACCEPTED_MEANWHILE = "An account with this address exists already. Sign in with it instead."


@dataclass(frozen=True)
class SentInvitation:
    """An invitation just sent: its link row, the address it opens (with its secret) and whether it replaced one."""

    link: AccessLink
    url: str
    replaced: bool = False


@dataclass(frozen=True)
class CsvPreview:
    """What an upload would do: each row with its problems, the rows to carry to confirmation, whether it may go."""

    rows: list[InvitationRow]
    problem: str | None
    payload: str

    @property
    def problem_rows(self) -> int:
        return sum(1 for row in self.rows if row.problems)

    @property
    def ready(self) -> bool:
        return self.problem is None and bool(self.rows) and not self.problem_rows


class CsvRefused(ServiceError):
    """An import refused as a whole; it carries the preview that shows why."""

    def __init__(self, preview: CsvPreview) -> None:
        message = preview.problem or wording.invitation_refused(preview.problem_rows)
        super().__init__(message, code="invalid_rows", status=422)
        self.preview = preview


# --- who may invite whom ------------------------------------------------------------------------------


def roles_for(inviter: User | None) -> tuple[str, ...]:
    """Return the roles an inviter may give (None is the command line, which may give any)."""
    if inviter is None or inviter.is_owner:
        return (Role.STUDENT.value, Role.INSTRUCTOR.value, Role.OWNER.value)
    if inviter.teaches:
        return (Role.STUDENT.value,)
    return ()


def _role_problem(inviter: User | None, role: str) -> ServiceError | None:
    if not roles_for(inviter):
        return ServiceError(NOT_STAFF, "forbidden", 403)
    if role not in {r.value for r in Role}:
        return ServiceError("Choose a role: student, instructor or owner.", field="role")
    if role not in roles_for(inviter):
        return ServiceError(STUDENTS_ONLY, "forbidden", 403, field="role")
    return None


def _usable_address(email: str) -> bool:
    return len(email) <= 254 and bool(EMAIL_RE.match(email)) and bounds.text_problem(email) is None


def _field_problem(email: str, name: str, timezone: str) -> ServiceError | None:
    if not _usable_address(email):
        return ServiceError("Enter a valid email address, like name@example.com.", field="email")
    if not 1 <= len(name) <= 120 or bounds.text_problem(name):
        return ServiceError("Enter the person's name (up to 120 characters).", field="name")
    if not is_valid_timezone(timezone):
        return ServiceError("Choose a timezone from the list, like Europe/London.", field="timezone")
    return None


@dataclass(frozen=True)
class _Addresses:
    """What the database knows about some addresses: which have accounts, and their unspent invitations."""

    taken: set[str]
    unspent: dict[str, list[AccessLink]]

    def open_for(self, email: str) -> list[AccessLink]:
        now = clock.now()
        return [link for link in self.unspent.get(email, []) if link.expires_at is None or link.expires_at > now]


def _addresses(emails: list[str]) -> _Addresses:
    """Look up many addresses in two queries (an import checks up to MAX_CSV_ROWS of them)."""
    wanted = sorted(set(emails))
    taken = set(db.session.scalars(sa.select(User.email).where(User.email.in_(wanted))))
    unspent: dict[str, list[AccessLink]] = {}
    for link in db.session.scalars(sa.select(AccessLink).where(
        AccessLink.purpose == PURPOSE, AccessLink.email.in_(wanted), AccessLink.used_at.is_(None),
        AccessLink.revoked_at.is_(None),
    ).order_by(AccessLink.id)):
        unspent.setdefault(link.email, []).append(link)
    return _Addresses(taken, unspent)


def _address_problem(inviter: User | None, email: str, known: _Addresses) -> ServiceError | None:
    """Refuse an address with an account, or one with an open invitation only its own inviter may replace."""
    if email in known.taken:
        return ServiceError(HAS_ACCOUNT.format(email=email), "email_taken", 409, field="email")
    if inviter is None or inviter.is_owner:
        return None
    for link in known.open_for(email):
        if link.created_by_id != inviter.id:
            who = link.created_by.name if link.created_by else "the studio"
            return ServiceError(TAKEN_BY_OTHER.format(email=email, inviter=who), "invited", 409, field="email")
    return None


# --- sending --------------------------------------------------------------------------------------------


def _send(inviter: User | None, email: str, name: str, role: str, timezone: str,
          replacing: list[AccessLink], waiting_user_id: int | None = None) -> SentInvitation:
    """Withdraw the address's unspent invitations, issue a new link and queue its mail (not committed).

    `waiting_user_id` names an account made for the invitee already (a student booked in by staff): accepting
    the link gives that account its password instead of creating one.
    """
    for old in replacing:
        links.revoke(old)
    data: dict[str, object] = {"name": name, "role": role, "timezone": timezone}
    if waiting_user_id is not None:
        data["user_id"] = waiting_user_id
    link, secret = links.issue(PURPOSE, email=email, data=data, created_by=inviter)
    url = f"{current_app.config['BASE_URL']}/invitations/{secret}"
    assert link.expires_at is not None  # an invitation always expires (domain/links.py LIFETIMES)
    mail.queue_account_mail(email, name, "invitation", {
        "inviter": inviter.name if inviter else studio_name(),
        "role": wording.as_role(role),
        "expires": wording.until_with_zone(link.expires_at, timezone),
        "action_url": url,
        "action_label": "Accept the invitation",
    })
    return SentInvitation(link, url, bool(replacing))


def _record_sent(actor: User | None, sent: SentInvitation) -> None:
    """Note a sent invitation in the audit log (in the same transaction)."""
    action = AuditAction.INVITATION_RESENT if sent.replaced else AuditAction.INVITATION_SENT
    audit.record(actor, action, detail={"email": sent.link.email, "role": str(sent.link.data.get("role", ""))})


def _checked(inviter: User | None, role: str, email: str, name: str, timezone: str) -> _Addresses:
    """Refuse an invitation that may not be sent (role, fields, an address with an account); return what is known."""
    problem = _role_problem(inviter, role) or _field_problem(email, name, timezone)
    if problem:
        raise problem
    known = _addresses([email])
    problem = _address_problem(inviter, email, known)
    if problem:
        raise problem
    return known


def invite(inviter: User | None, *, email: str, name: str, role: str, timezone: str | None = None) -> SentInvitation:
    """Invite one person by email (inviter None: the command line); an open invitation to them is replaced.

    Refused: a student (403), an instructor giving another role than student (403), an address that has an
    account (409), an instructor replacing someone else's open invitation (409).
    """
    email, name = normalize_email(email), name.strip()
    timezone = (timezone or "").strip() or (inviter.timezone if inviter else "UTC")
    known = _checked(inviter, role, email, name, timezone)
    sent = _send(inviter, email, name, role, timezone, known.unspent.get(email, []))
    _record_sent(inviter, sent)
    db.session.commit()
    return sent


def _check_rows(inviter: User, rows: list[InvitationRow]) -> _Addresses:
    """Add each row's problems (and notes) as inviting that person alone would meet them."""
    for row in rows:
        row.email = normalize_email(row.email)
        row.timezone = row.timezone or inviter.timezone
    known = _addresses([row.email for row in rows if _usable_address(row.email)])
    for row in rows:
        if not row.name:
            row.problems.append("The name is missing.")
        elif len(row.name) > 120:
            row.problems.append("The name is longer than 120 characters.")
        if not row.email:
            row.problems.append("The address is missing.")
        elif not EMAIL_RE.match(row.email):
            row.problems.append("The address is not a valid email address, like name@example.com.")
        row.role = row.role.lower()
        role_problem = _role_problem(inviter, row.role)
        if not row.role:
            row.problems.append("The role is missing: use student, instructor or owner.")
        elif role_problem is not None:
            row.problems.append("The role is unknown: use student, instructor or owner."
                                if role_problem.status == 422 else STUDENTS_ONLY)
        if not is_valid_timezone(row.timezone):
            row.problems.append(f"The timezone “{row.timezone}” is unknown: use a name like Europe/London.")
        if _usable_address(row.email):
            address_problem = _address_problem(inviter, row.email, known)
            if address_problem is not None:
                row.problems.append(address_problem.message)
            elif known.open_for(row.email):
                row.notes.append("An open invitation to this address will be replaced by a new one.")
    return known


def _preview(inviter: User, rows: list[InvitationRow], problem: str | None) -> tuple[CsvPreview, _Addresses]:
    known = _check_rows(inviter, rows) if problem is None else _Addresses(set(), {})
    return CsvPreview(rows, problem, payload_of(rows) if problem is None else ""), known


def preview_csv(inviter: User, data: bytes) -> CsvPreview:
    """Read an uploaded CSV and say, row by row, what importing it would do; nothing is written."""
    if not roles_for(inviter):
        raise ServiceError(NOT_STAFF, "forbidden", 403)
    parsed = read_csv(data)
    return _preview(inviter, parsed.rows, parsed.problem)[0]


def import_csv(inviter: User, payload: str) -> list[SentInvitation]:
    """Invite everyone a confirmed preview carried, all or nobody: the rows are checked again first.

    Raises CsvRefused (with the fresh preview) when any row has a problem now; nothing is written then.
    """
    if not roles_for(inviter):
        raise ServiceError(NOT_STAFF, "forbidden", 403)
    parsed = read_payload(payload)
    preview, known = _preview(inviter, parsed.rows, parsed.problem)
    if not preview.ready:
        raise CsvRefused(preview)
    try:
        sent = [_send(inviter, row.email, row.name, row.role, row.timezone, known.unspent.get(row.email, []))
                for row in preview.rows]
        for each in sent:
            _record_sent(inviter, each)
        audit.record(inviter, AuditAction.USERS_IMPORTED, detail={"count": len(sent)})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return sent


# --- the list's buttons ----------------------------------------------------------------------------------


def _invitation_of(actor: User, invitation_id: int) -> AccessLink:
    """Return an invitation the actor may manage (the owner: any; an instructor: their own), else refuse."""
    if not roles_for(actor):
        raise ServiceError(NOT_STAFF, "forbidden", 403)
    link = db.session.get(AccessLink, invitation_id)
    if link is None or link.purpose != PURPOSE or not (actor.is_owner or link.created_by_id == actor.id):
        raise ServiceError(NOT_FOUND, "not_found", 404)
    if link.used_at is not None:
        raise ServiceError(f"{link.email} has accepted this invitation already.", "accepted", 409)
    if link.revoked_at is not None:
        raise ServiceError(f"This invitation to {link.email} was withdrawn. Invite them again instead.", "revoked", 409)
    return link


def resend(actor: User, invitation_id: int) -> SentInvitation:
    """Send an invitation again with a new link (also after it expired); the old link stops working."""
    old = _invitation_of(actor, invitation_id)
    known = _addresses([old.email])
    waiting = _waiting_account(old)
    if old.email in known.taken and waiting is None:
        raise ServiceError(HAS_ACCOUNT.format(email=old.email), "email_taken", 409)
    data = old.data
    sent = _send(old.created_by or actor, old.email, str(data.get("name", "")), str(data.get("role", "student")),
                 str(data.get("timezone", "UTC")), known.unspent.get(old.email, []),
                 waiting.id if waiting else None)
    audit.record(actor, AuditAction.INVITATION_RESENT, detail={"email": old.email, "role": str(data.get("role", ""))})
    db.session.commit()
    return sent


def revoke(actor: User, invitation_id: int) -> AccessLink:
    """Withdraw an invitation: its link stops working at once."""
    link = _invitation_of(actor, invitation_id)
    links.revoke(link)
    audit.record(actor, AuditAction.INVITATION_REVOKED, detail={"email": link.email})
    db.session.commit()
    return link


# --- a student booked in before they had an account ----------------------------------------------------


def _waiting_account(link: AccessLink) -> User | None:
    """Return the password-less account an invitation was made for (a student staff booked in), if any."""
    user_id = link.data.get("user_id")
    if not isinstance(user_id, int):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.email != link.email or user.password_hash or user.is_deleted:
        return None
    return user


def invite_booked_student(inviter: User, *, email: str, name: str, timezone: str) -> tuple[User, SentInvitation]:
    """Make a student account without a password for someone staff are booking in, and invite them to it.

    Not committed: the booking made for the account commits with it, and the invitation mail goes after the
    commit. The invitee sets a password from the link. An address with an account is refused (409).
    """
    email, name = normalize_email(email), name.strip()
    known = _checked(inviter, Role.STUDENT.value, email, name, timezone)
    user = User(email=email, name=name, role=Role.STUDENT, timezone=timezone, active=True, password_hash="")
    db.session.add(user)
    db.session.flush()
    sent = _send(inviter, email, name, Role.STUDENT.value, timezone, known.unspent.get(email, []), user.id)
    _record_sent(inviter, sent)
    return user, sent


# --- the invitee -------------------------------------------------------------------------------------------


def look_up(secret: str | None) -> tuple[AccessLink | None, LinkState]:
    """Return the invitation a secret opens and whether it still works; reading changes nothing."""
    return links.look_up(PURPOSE, secret)


def accept(secret: str | None, *, name: str, password: str) -> User:
    """Spend an invitation and create the account it offers, with the role and zone it names.

    A used, withdrawn or expired link raises 410; of two acceptances racing, one wins (links.redeem).
    """
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ServiceError(f"Choose a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters.", field="password")
    try:
        link = links.redeem(PURPOSE, secret)
        data = link.data
        waiting = _waiting_account(link)
        if waiting is not None:
            waiting.name = name.strip()[:120] or waiting.name
            waiting.set_password(password)
            audit.record(waiting, AuditAction.INVITATION_ACCEPTED, subject=waiting,
                         detail={"role": str(data.get("role", ""))})
            db.session.commit()
            return waiting
        user = add_user(email=link.email, name=name.strip() or str(data.get("name", "")), password=password,
                        role=str(data.get("role", Role.STUDENT.value)), timezone=str(data.get("timezone", "UTC")))
        audit.record(user, AuditAction.INVITATION_ACCEPTED, subject=user, detail={"role": str(data.get("role", ""))})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(ACCEPTED_MEANWHILE, "email_taken", 409) from None
    except ServiceError as exc:
        db.session.rollback()
        if exc.code == "email_taken":
            raise ServiceError(ACCEPTED_MEANWHILE, "email_taken", 409) from None
        raise
    return user
