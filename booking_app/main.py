"""Public pages: the home page with the studio's instructors."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template

from .extensions import db
from .models import Role, User

bp = Blueprint("main", __name__)


def teaching_staff() -> list[User]:
    """Return the active people who teach, by name."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role.in_([Role.INSTRUCTOR.value, Role.OWNER.value]), User.active.is_(True))
            .order_by(User.name)
        )
    )


@bp.route("/")
def home() -> str:
    return render_template("main/home.html", instructors=teaching_staff())


@bp.route("/calendar/<token>.ics")
def calendar_feed(token: str) -> Response:
    """Serve a user's private calendar feed (the token is the only credential)."""
    from .ics import feed
    from .services.feed import feed_bookings, user_for_feed
    from .services.studio import studio_name

    user = user_for_feed(token)
    if user is None:
        abort(404)
    body = feed(feed_bookings(user), user.id, current_app.config["BASE_URL"], f"{studio_name()} lessons")
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
