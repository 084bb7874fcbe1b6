"""Core API endpoints: who am I."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from .common import require_user
from .schemas import UserSchema

bp = Blueprint("api_core", __name__, url_prefix="/api", description="Account")


@bp.route("/me")
class Me(MethodView):
    @bp.response(200, UserSchema)
    def get(self):  # type: ignore[no-untyped-def]
        """Return the signed-in user (session or bearer token)."""
        return require_user()
