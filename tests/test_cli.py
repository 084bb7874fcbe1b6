"""The Flask CLI in the exact forms operators rely on (spec §11)."""

from __future__ import annotations

import sqlalchemy as sa

from booking_app.domain.bookings import Status
from booking_app.extensions import db
from booking_app.models import (
    Block,
    Booking,
    InstructorSettings,
    Message,
    OneTimeWindow,
    User,
    WeeklyWindow,
)
from tests.conftest import count


def _create(runner, email="ana@example.test", role="instructor"):
    return runner.invoke(args=[
        "users", "create", email, "--name", "Ana Ruiz", "--role", role,
        "--password", "a-good-password", "--timezone", "Europe/London",
    ])


def test_users_create_prints_the_new_id_alone(runner):
    result = _create(runner)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().isdigit()
    user = db.session.get(User, int(result.stdout))
    assert user is not None
    assert (user.email, user.name, user.role, user.timezone) == ("ana@example.test", "Ana Ruiz", "instructor", "Europe/London")
    assert user.check_password("a-good-password")
    assert count(InstructorSettings, InstructorSettings.user_id == user.id) == 1


def test_users_create_refuses_a_duplicate_email_with_a_clear_message(runner):
    assert _create(runner).exit_code == 0
    result = _create(runner, email="ANA@example.test")
    assert result.exit_code != 0
    assert "An account with this email already exists" in result.output
    assert count(User) == 1


def test_users_create_refuses_an_unknown_timezone(runner):
    result = runner.invoke(args=["users", "create", "x@example.test", "--name", "X", "--password", "a-good-password",
                                 "--timezone", "Mars/Olympus"])
    assert result.exit_code != 0
    assert "Choose a timezone" in result.output


def test_users_token_prints_a_token_that_signs_in_to_the_api(runner, client):
    user_id = int(_create(runner).stdout)
    result = runner.invoke(args=["users", "token", "ana@example.test"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token and "\n" not in token and " " not in token
    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json["id"] == user_id


def test_users_token_for_an_unknown_email_fails_clearly(runner):
    result = runner.invoke(args=["users", "token", "nobody@example.test"])
    assert result.exit_code != 0
    assert "No user has the email nobody@example.test" in result.output


def _census() -> dict[str, int]:
    return {
        "users": count(User), "weekly": count(WeeklyWindow), "one_time": count(OneTimeWindow), "blocks": count(Block),
        "bookings": count(Booking), "messages": count(Message),
    }


def test_seed_demo_builds_the_demo_studio_and_is_idempotent(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    census = _census()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert _census() == census

    roles = dict(db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all())
    assert roles == {"owner": 1, "instructor": 3, "student": 6}
    zones = set(db.session.scalars(sa.select(InstructorSettings.timezone).join(User).where(User.role == "instructor")))
    assert zones == {"America/New_York", "Europe/London", "Australia/Sydney"}
    statuses = set(db.session.scalars(sa.select(Booking.status).distinct()))
    assert statuses == set(Status)
    assert census["weekly"] >= 3 and census["one_time"] >= 3 and census["messages"] > 0
    assert count(Block, Block.end_on > Block.start_on) >= 1  # a vacation of several days


def test_jobs_sweep_runs(runner):
    result = runner.invoke(args=["jobs", "sweep"])
    assert result.exit_code == 0, result.output
    assert "effects=0" in result.output
