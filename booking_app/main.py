"""Public pages: the home page with the studio's instructors."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template

from .extensions import limiter
from .services.availability import list_instructors

bp = Blueprint("main", __name__)


@bp.route("/healthz")
@limiter.exempt
def healthz() -> Response:
    """Answer load balancers: the process serves requests (no database, Redis, session or template)."""
    return Response("ok", mimetype="text/plain")


@bp.route("/")
def home() -> str:
    return render_template("main/home.html", instructors=list_instructors())


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
