"""Public pages: the home page with the studio's instructors."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template

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
