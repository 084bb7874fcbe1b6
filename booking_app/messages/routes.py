"""Thread pages: read and write a booking's messages, mark them read, dismiss the unread banner."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from ..auth.routes import safe_next
from ..domain.bookings import Status, effective_status
from ..extensions import limiter
from ..forms_common import parse_id
from ..models import Booking
from ..services import ServiceError
from ..services import messages as message_service
from ..services.clock import now
from ..services.header import header_state
from ..views import live_region, render_page

bp = Blueprint("messages", __name__)

RATE_LIMITED = "You are sending messages too quickly. Wait a minute and try again."


def _send_rate() -> str:
    return str(current_app.config.get("MESSAGE_RATE_LIMIT", "20/minute"))


# One budget per user shared by the thread form and the API, counted in Redis.
send_limit = limiter.shared_limit(_send_rate, scope="message-send", methods=["POST"], error_message=RATE_LIMITED)


def _booking_or_404(booking_id: int) -> Booking:
    try:
        return message_service.booking_for(booking_id, current_user)
    except ServiceError:
        abort(404)


def _lesson_status(booking: Booking) -> str:
    return str(effective_status(Status(booking.status), booking.expires_at, booking.ends_at, now()))


def _booking_url(booking: Booking) -> str | None:
    """Return the booking page's address once the booking area provides one."""
    if "booking.detail" in current_app.view_functions:
        return url_for("booking.detail", booking_id=booking.id)
    return None


def thread_context(booking: Booking, *, draft: str = "", error: str | None = None,
                   next_url: str | None = None) -> dict[str, Any]:
    """Return what templates/messages/_thread.html needs (as `msg_thread`; the booking page gets it itself)."""
    return {
        "booking": booking,
        "thread_messages": message_service.thread(booking),
        "draft": draft,
        "error": error,
        "next_url": next_url or "",
        "lesson_status": _lesson_status(booking),
        "booking_url": _booking_url(booking),
        "max_body": message_service.MAX_BODY,
    }


def _render_thread(booking: Booking, status: int = 200, **kwargs: Any) -> tuple[str, int]:
    return render_page("messages/thread.html", booking=booking, msg_thread=thread_context(booking, **kwargs)), status


def is_page_view() -> bool:
    """Tell whether this GET is the user opening a page, the only GET allowed to mark messages read.

    A script's refresh of one live region does not count (it marks the thread read through the API when the
    thread is visible), and neither does a request another site makes (an <img src> or a link) that the
    browser labels cross-site.
    """
    if live_region():
        return False
    return request.headers.get("Sec-Fetch-Site", "none") in ("same-origin", "none")


@bp.route("/bookings/<int:booking_id>/messages")
@login_required
def thread(booking_id: int) -> str | tuple[str, int]:
    """Show the thread and mark it read when the user opens it (a script's region refresh leaves it unread)."""
    booking = _booking_or_404(booking_id)
    if is_page_view():
        message_service.mark_read(booking, current_user)
    return _render_thread(booking)


@bp.route("/bookings/<int:booking_id>/messages", methods=["POST"])
@login_required
@send_limit
def send(booking_id: int) -> Response | tuple[Any, int] | tuple[str, int]:
    """Send a message, then go back to the thread (PRG); on a refusal show it with the text kept."""
    booking = _booking_or_404(booking_id)
    # Browsers send line breaks as CRLF; store them as typed (LF) so the length counts what the user sees.
    body = request.form.get("body", "").replace("\r\n", "\n")
    next_url = safe_next(request.form.get("next"))
    try:
        message_service.send_message(booking, current_user, body)
    except ServiceError as exc:
        return _render_thread(booking, exc.status, draft=body, error=exc.message, next_url=next_url)
    return redirect((next_url or url_for("messages.thread", booking_id=booking.id)) + "#latest")


@bp.route("/bookings/<int:booking_id>/messages/read", methods=["POST"])
@login_required
def read(booking_id: int) -> Response | tuple[str, int]:
    """Mark the thread read without opening it."""
    booking = _booking_or_404(booking_id)
    message_service.mark_read(booking, current_user)
    return redirect(safe_next(request.form.get("next")) or url_for("messages.thread", booking_id=booking.id))


@bp.route("/bookings/<int:booking_id>/banner/dismiss", methods=["POST"])
@login_required
def dismiss(booking_id: int) -> Response | tuple[str, int]:
    """Hide the banner for a message; the thread stays unread."""
    booking = _booking_or_404(booking_id)
    raw = request.form.get("message_id", "")
    message_service.dismiss_banner(booking, current_user, parse_id(raw) or 0)
    return redirect(safe_next(request.form.get("next")) or url_for("main.home"))


@bp.route("/messages/banner")
@login_required
def banner() -> str:
    """Return the banner partial for the current user (scripts refresh it live)."""
    return render_template("messages/_banner.html", banner_next=safe_next(request.args.get("next")))


@bp.errorhandler(TooManyRequests)
def too_many(exc: TooManyRequests) -> Any:
    """Refuse a send over the rate limit with a clear sentence, keeping the text in the box."""
    booking_id = (request.view_args or {}).get("booking_id")
    if request.method == "POST" and booking_id is not None and current_user.is_authenticated:
        try:
            booking = message_service.booking_for(int(booking_id), current_user)
        except ServiceError:
            abort(404)
        body = request.form.get("body", "").replace("\r\n", "\n")
        return _render_thread(booking, 429, draft=body, error=RATE_LIMITED,
                              next_url=safe_next(request.form.get("next")))
    return render_template("errors/error.html", status=429, title="Slow down", message=RATE_LIMITED), 429


def _current_banner() -> message_service.BannerMessage | None:
    if not current_user.is_authenticated:
        return None
    return header_state(current_user).banner


def _unread_booking_ids() -> frozenset[int]:
    if not current_user.is_authenticated:
        return frozenset()
    return frozenset(header_state(current_user).unread)


def _unread_counts() -> dict[int, int]:
    if not current_user.is_authenticated:
        return {}
    return header_state(current_user).unread


def _message_thread(booking: Booking) -> dict[str, Any]:
    """Return the thread context for a booking page that includes templates/messages/_thread.html."""
    if not message_service.can_access(booking, current_user):
        abort(404)
    return thread_context(booking, next_url=request.full_path.rstrip("?"))


@bp.app_context_processor
def message_helpers() -> dict[str, Any]:
    """Offer templates message_banner(), unread_booking_ids(), unread_message_counts() and message_thread()."""
    return {"message_banner": _current_banner, "unread_booking_ids": _unread_booking_ids,
            "unread_message_counts": _unread_counts, "message_thread": _message_thread}


@bp.before_app_request
def _read_on_booking_page() -> None:
    # The booking page shows the thread, so opening it marks the thread read before the banner renders.
    if request.method != "GET" or request.endpoint != "booking.detail" or not current_user.is_authenticated:
        return
    if not is_page_view():
        return
    booking_id = (request.view_args or {}).get("booking_id")
    if booking_id is None:
        return
    try:
        booking = message_service.booking_for(int(booking_id), current_user)
    except (ServiceError, ValueError):
        return  # the booking view answers 404 itself
    message_service.mark_read(booking, current_user)
