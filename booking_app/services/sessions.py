"""Sign-in sessions kept on the server, and API tokens: both can be listed, ended and revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import ApiToken, StudioSettings, User, UserSession
from . import ServiceError, clock
from .slots import SCHEDULE_LOADS
from .studio import remember_studio

TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most this often per token
MAX_TOKEN_DAYS = 3650


def hash_secret(secret: str) -> str:
    """Return the stored form of a session or token secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


# --- browser sessions ------------------------------------------------------------------------------


def start_session(user: User, user_agent: str = "") -> str:
    """Record a new signed-in browser for the user and return the secret its cookie carries."""
    secret = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, key_hash=hash_secret(secret), user_agent=(user_agent or "")[:200],
                               created_at=clock.now()))
    db.session.commit()
    return secret


# Built once: building the statement (with its loader options) costs more than running it.
SESSION_USER = (
    sa.select(User, StudioSettings)
    .options(*SCHEDULE_LOADS)
    .join(UserSession, UserSession.user_id == User.id)
    .outerjoin(StudioSettings, StudioSettings.id == 1)
    .where(User.id == sa.bindparam("user_id", type_=sa.Integer), User.active.is_(True),
           UserSession.key_hash == sa.bindparam("key_hash", type_=sa.String), UserSession.ended_at.is_(None))
)


def user_for_session(user_id: int, secret: str | None) -> User | None:
    """Return the active user whose session this is, or None when it ended (one query).

    The same query brings the studio settings every page shows, and what the user's own slots need.
    """
    if not secret:
        return None
    row = db.session.execute(SESSION_USER, {"user_id": user_id, "key_hash": hash_secret(secret)}).first()
    if row is None:
        return None
    if row[1] is not None:
        remember_studio(row[1])
    return row[0]  # type: ignore[no-any-return]


def end_session(secret: str | None) -> None:
    """End one browser's session (signing out)."""
    if not secret:
        return
    db.session.execute(
        sa.update(UserSession).where(UserSession.key_hash == hash_secret(secret), UserSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )
    db.session.commit()


def end_all_sessions(user: User, *, commit: bool = True) -> int:
    """End every session of the user (sign out everywhere); return how many were open."""
    result = db.session.execute(
        sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )
    if commit:
        db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def end_other_sessions(user: User, keep: str | None, *, commit: bool = True) -> int:
    """End every session of the user except the one whose secret is `keep`; return how many were ended."""
    query = sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep:
        query = query.where(UserSession.key_hash != hash_secret(keep))
    result = db.session.execute(query.values(ended_at=clock.now()))
    if commit:
        db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def open_session_count(user: User) -> int:
    """Return how many browsers are signed in as the user."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ) or 0


# --- API tokens ------------------------------------------------------------------------------------


def _token_works(now: datetime) -> sa.ColumnElement[bool]:
    """Tokens neither revoked nor expired at `now`."""
    return sa.and_(ApiToken.revoked_at.is_(None), sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))


def issue_token(user: User, name: str = "", *, expires_in_days: int | None = None) -> str:
    """Create an API token (optionally expiring); only its hash is stored, the token is returned once."""
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise ServiceError(f"Choose an expiry between 1 and {MAX_TOKEN_DAYS} days, or none.", field="expires_in_days")
    now = clock.now()
    token = "bk_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(
        user_id=user.id, token_hash=hash_secret(token), name=(name or "")[:80], created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    ))
    db.session.commit()
    return token


def user_for_token(token: str, now: datetime | None = None) -> User | None:
    """Return the active user a valid bearer token belongs to, noting its use at most once a minute."""
    now = now or clock.now()
    row = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == hash_secret(token), _token_works(now))
    )
    if row is None or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH_INTERVAL:
        # Conditional, so many requests at once write it once.
        db.session.execute(
            sa.update(ApiToken)
            .where(ApiToken.id == row.id,
                   sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOKEN_TOUCH_INTERVAL))
            .values(last_used_at=now)
        )
        db.session.commit()
    return row.user


def tokens_of(user: User) -> list[ApiToken]:
    """Return the user's tokens that still work, newest first."""
    now = clock.now()
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id, _token_works(now)).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def revoke_token(token_id: int, user: User) -> None:
    """Revoke one of the user's API tokens."""
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise ServiceError("That token does not exist.", code="not_found", status=404)
    if row.revoked_at is None:
        row.revoked_at = clock.now()
    db.session.commit()


def revoke_all_tokens(user: User, *, commit: bool = True) -> int:
    """Revoke every token of the user; return how many still worked."""
    result = db.session.execute(
        sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    if commit:
        db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
