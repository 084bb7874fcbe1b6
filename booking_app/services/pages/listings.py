"""Read-only lists that pages and the API show: the studio's people, an instructor's rules, one owned row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ...extensions import db
from ...models import Block, OneTimeWindow, User, WeeklyWindow
from .. import ServiceError


def people() -> list[User]:
    """Return everyone with an account, by role then name."""
    return list(db.session.scalars(sa.select(User).order_by(User.role, User.name)).all())


@dataclass
class InstructorRules:
    """An instructor's weekly and one-time windows and blocks, in the order the API lists them."""

    weekly: list[WeeklyWindow]
    one_time: list[OneTimeWindow]
    blocks: list[Block]


def instructor_rules(instructor_id: int) -> InstructorRules:
    """Return every window and block of an instructor."""
    weekly = db.session.scalars(sa.select(WeeklyWindow).where(WeeklyWindow.instructor_id == instructor_id)
                                .order_by(WeeklyWindow.weekday, WeeklyWindow.start_time)).all()
    one_time = db.session.scalars(sa.select(OneTimeWindow).where(OneTimeWindow.instructor_id == instructor_id)
                                  .order_by(OneTimeWindow.occurs_on, OneTimeWindow.start_time)).all()
    blocks = db.session.scalars(sa.select(Block).where(Block.instructor_id == instructor_id)
                                .order_by(Block.start_on)).all()
    return InstructorRules(list(weekly), list(one_time), list(blocks))


def owned_row(model: type[Any], item_id: int, instructor_id: int) -> Any:
    """Return a window or block when it belongs to the instructor, else refuse with 404."""
    row = db.session.get(model, item_id)
    if row is None or row.instructor_id != instructor_id:
        raise ServiceError("We could not find that item. Reload the availability and try again.", "not_found", 404)
    return row
