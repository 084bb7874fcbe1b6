"""Studio API: read the studio-wide booking rules; the owner changes them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..models import StudioSettings
from ..services import ServiceError
from ..services.studio import get_studio, update_studio
from .common import require_user
from .fields import BoundedInt

bp = Blueprint("api_studio", __name__, url_prefix="/api", description="Studio settings")


class StudioSchema(Schema):
    horizon = fields.String(metadata={"enum": ["end_of_month", "end_of_next_month", "days"]})
    horizon_days = BoundedInt(strict=False, allow_none=True, metadata={"description": "Days ahead when horizon is \"days\"."})
    pending_expiry_hours = BoundedInt(strict=False, metadata={"description": "Hours before an unanswered request expires."})
    cancellation_window_hours = BoundedInt(
        strict=False,
        metadata={"description": "Students cannot cancel a confirmed lesson closer than this to its start."}
    )
    series_max_weeks = BoundedInt(
        0, 52, strict=False, metadata={"description": "The most weeks a standing weekly lesson may run; 0 turns series off."}
    )


def _studio_json(studio: StudioSettings) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "horizon": studio.horizon,
        "pending_expiry_hours": studio.pending_expiry_hours,
        "cancellation_window_hours": studio.cancellation_window_hours,
        "series_max_weeks": studio.series_max_weeks,
    }
    if studio.horizon == "days":
        shape["horizon_days"] = studio.horizon_days
    return shape


@bp.route("/studio")
class Studio(MethodView):
    @bp.response(200, StudioSchema)
    def get(self):  # type: ignore[no-untyped-def]
        """Return the studio's booking horizon, request expiry and cancellation window (anyone signed in)."""
        require_user()
        return _studio_json(get_studio())

    @bp.arguments(StudioSchema(partial=True))
    @bp.response(200, StudioSchema)
    def patch(self, data: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Change the studio's rules (the owner only); values are checked as on the studio settings page."""
        if not require_user().is_owner:
            raise ServiceError("Only the studio owner can change studio settings.", "forbidden", 403)
        if "horizon_days" in data and "horizon" not in data:
            if get_studio().horizon != "days":
                raise ServiceError('Set horizon to "days" together with horizon_days.', field="horizon_days")
            data["horizon"] = "days"
        return _studio_json(update_studio(**data))
