"""What every API module shares: the error shape and the signed-in user."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify
from flask_login import current_user

ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 422: "invalid", 429: "rate_limited", 500: "server_error",
}


def error_response(status: int, message: str, code: str | None = None, details: Any = None):  # type: ignore[no-untyped-def]
    """Return the spec's error shape: {"error": {"code", "message"}}."""
    body: dict[str, Any] = {"code": code or ERROR_CODES.get(status, "error"), "message": message}
    if details:
        body["details"] = details
    return jsonify(error=body), status



def require_user() -> Any:
    """Return the signed-in (session or token) user, or answer 401."""
    if not current_user.is_authenticated:
        abort(401)
    return current_user._get_current_object()
