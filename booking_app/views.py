"""What every view shares: the viewer's zone, time display, page and live-region rendering, errors onto forms."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from typing import Any

from flask import abort, current_app, flash, has_request_context, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup

from . import wording
from .domain.timeutil import is_valid_timezone
from .forms_common import parse_id
from .models import User
from .services import ServiceError, availability


def viewer_timezone() -> str:
    """Return the timezone pages are shown in: the user's, else the browser's cookie, else UTC."""
    if current_user.is_authenticated:
        return str(current_user.timezone)
    tz = request.cookies.get("tz", "")
    return tz if tz and is_valid_timezone(tz) else "UTC"


def localtime(instant: datetime | None, style: str = "day_year_time", tz: str | None = None) -> str:
    """Say an aware instant in the viewer's (or the given) timezone in a named style of `wording`."""
    return wording.moment(instant, tz or viewer_timezone(), style)


def live_region() -> str | None:
    """Return the name of the live region a script asked for (`?region=`), or None for the whole page."""
    return request.args.get("region") or None


def render_page(template: str, **context: Any) -> str:
    """Render a page template, or only the block named by `?region=` when a live script refreshes one region."""
    region = live_region()
    if region is None:
        return render_template(template, **context)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    page = app.jinja_env.get_or_select_template(template)
    block = page.blocks.get(region)
    if block is None:
        abort(404)
    app.update_template_context(context)
    return "".join(block(page.new_context(context)))


FRAGMENTS_KEPT = 512  # rendered fragments kept in this process (keys never go stale; this only bounds memory)


def cached_fragment(template: str, **values: Hashable) -> Markup:
    """Render a partial from the given values alone, once per distinct values in this process.

    The partial reads nothing but these values (no request, user, clock or database), so equal values give
    equal HTML: a kept copy can never be stale, and any change to what it shows is a new key.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    partial = app.jinja_env.get_template(template)
    key = (partial, tuple(sorted(values.items(), key=lambda item: item[0])))
    kept: dict[Any, Markup] = app.extensions.setdefault("fragments", {})
    html = kept.get(key)
    if html is None:
        html = Markup(partial.render(values))
        if len(kept) >= FRAGMENTS_KEPT:
            kept.pop(next(iter(kept)), None)
        kept[key] = html
    return html


URLS_KEPT = 4096  # paths kept in this process


def remembered_url_for(endpoint: str, **values: Any) -> str:
    """Build a path as url_for does, remembering it per (script root, host, endpoint, arguments) in this process.

    Templates build the same few dozen paths on every page; the URL map never changes while the app runs, so the
    same arguments always build the same path. External URLs, anchors and relative endpoints are built each time.
    """
    if endpoint[:1] == "." or not has_request_context() or any(name[:1] == "_" for name in values):
        return url_for(endpoint, **values)
    key = (request.script_root, request.host, endpoint, tuple(sorted(values.items(), key=lambda item: item[0])))
    kept: dict[Any, str] = current_app.extensions.setdefault("paths", {})
    try:
        path = kept.get(key)
    except TypeError:  # an argument that cannot be a key (a list): built each time
        return url_for(endpoint, **values)
    if path is None:
        path = url_for(endpoint, **values)
        if len(kept) >= URLS_KEPT:
            kept.pop(next(iter(kept)), None)
        kept[key] = path
    return path


def show_error(form: FlaskForm, exc: ServiceError, default: str | None = None,
               aliases: dict[str, str] | None = None) -> None:
    """Show a service's refusal on the form field it names (or on `default`), else as a flash message."""
    if exc.status == 403:
        abort(403)
    name = (aliases or {}).get(exc.field or "", exc.field) or default
    field = form[name] if name and name in form else None
    if field is None:
        flash(exc.message, "danger")
        return
    field.errors = [*field.errors, exc.message]


def managed_instructor(raw: str | None) -> User:
    """Return the instructor a staff page is about: the owner may pick anyone (?instructor=), others are themselves."""
    if not current_user.teaches:
        abort(403)
    if not raw:
        return current_user._get_current_object()  # type: ignore[no-any-return]
    instructor_id = parse_id(raw)
    if instructor_id is None:
        abort(404)
    if not availability.can_manage(current_user, instructor_id):
        abort(403)
    try:
        return availability.get_instructor(instructor_id)
    except ServiceError:
        abort(404)
