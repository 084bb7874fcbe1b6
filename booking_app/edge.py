"""Refuse out-of-bounds requests before any view runs: path ids, body size and JSON nesting depth."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from .domain import bounds

TOO_LARGE = "The request is larger than {size} KiB. Send less text or a smaller request and try again."
TOO_DEEP = (
    f"The JSON body nests arrays or objects more than {bounds.MAX_JSON_DEPTH} levels deep. "
    "Send a flatter body and try again."
)
NOT_JSON = "The request body is not valid JSON. Check its syntax and try again."


def _digits_at_most(limit: int) -> str:
    """Return a regular expression matching the whole numbers 1..limit written without leading zeros."""
    text = str(limit)
    parts = [rf"[1-9]\d{{0,{len(text) - 2}}}"] if len(text) > 1 else []
    for i, digit in enumerate(map(int, text)):
        lowest = 1 if i == 0 else 0
        if digit > lowest:
            rest = len(text) - i - 1
            parts.append(f"{text[:i]}[{lowest}-{digit - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    parts.append(text)
    return "(?:" + "|".join(parts) + ")"


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` that matches only ids a database column can hold, so a larger one answers 404."""

    # In the pattern, not only in to_python: a value refused there answers 405 when another method's
    # rule shares the path.
    regex = _digits_at_most(bounds.ID_MAX)

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", bounds.ID_MAX)
        super().__init__(map, *args, **kwargs)


def _refuse(status: int, code: str, title: str, message: str) -> Any:
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error={"code": code, "message": message}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _check_body() -> Any:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()  # even where the view would not read the body
    if not request.is_json or request.content_length == 0:
        return None
    # webargs calls json.loads itself; a too-deep body would raise RecursionError there.
    body = request.get_data(cache=True)
    if bounds.json_depth(body) > bounds.MAX_JSON_DEPTH:
        return _refuse(400, "bad_request", "Request too deep", TOO_DEEP)
    if body.strip():
        try:
            json.loads(body)
        except (ValueError, RecursionError):  # ValueError also covers numbers beyond Python's digit limit
            return _refuse(400, "bad_request", "Request not readable", NOT_JSON)
    return None


def register_converters(app: Flask) -> None:
    """Replace the `int` URL converter with the bounded one (call before any blueprint is registered)."""
    app.url_map.converters["int"] = BoundedIntConverter


def init_app(app: Flask) -> None:
    """Limit body size and JSON depth for every request."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None: no limit at all
        app.config["MAX_CONTENT_LENGTH"] = bounds.MAX_BODY_BYTES
    # First in line, before CSRF or a view reads the body.
    app.before_request_funcs.setdefault(None, []).insert(0, _check_body)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> Any:
        size = (app.config.get("MAX_CONTENT_LENGTH") or bounds.MAX_BODY_BYTES) // 1024
        return _refuse(413, "too_large", "Request too large", TOO_LARGE.format(size=size))
