"""`flask users invite EMAIL --name NAME --role ROLE [--timezone TZ]` prints the invitation link alone on stdout."""

from __future__ import annotations

import pytest

from booking_app.domain.links import LinkState
from booking_app.models import AccessLink, Effect
from booking_app.services import invitations
from tests.conftest import count


def test_users_invite_prints_the_link_alone_and_the_link_works(app, runner, client):
    app.config["BASE_URL"] = "https://lessons.example.test"
    result = runner.invoke(args=["users", "invite", "ana@example.test", "--name", "Ana Ruiz", "--role", "instructor",
                                 "--timezone", "Asia/Tokyo"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1
    url = result.stdout.strip()
    assert url.startswith("https://lessons.example.test/invitations/") and " " not in url
    link, state = invitations.look_up(url.rsplit("/", 1)[1])
    assert state is LinkState.VALID and link is not None
    assert link.data == {"name": "Ana Ruiz", "role": "instructor", "timezone": "Asia/Tokyo"}
    assert link.created_by_id is None
    assert count(Effect, Effect.kind == "account_mail") == 1  # mailed too
    assert client.get(url.removeprefix("https://lessons.example.test")).status_code == 200


def test_users_invite_defaults_to_utc(runner):
    result = runner.invoke(args=["users", "invite", "sam@example.test", "--name", "Sam", "--role", "student"])
    assert result.exit_code == 0, result.output
    link = invitations.look_up(result.stdout.strip().rsplit("/", 1)[1])[0]
    assert link is not None and link.data["timezone"] == "UTC"


@pytest.mark.parametrize(("args", "message"), [
    (["taken@example.test", "--name", "T", "--role", "student"], "already has an account"),
    (["nope", "--name", "N", "--role", "student"], "valid email address"),
    (["x@example.test", "--name", "X", "--role", "student", "--timezone", "Mars/Olympus"], "Choose a timezone"),
    (["x@example.test", "--name", "X", "--role", "wizard"], "Invalid value for '--role'"),
    (["x@example.test", "--role", "student"], "Missing option '--name'"),
])
def test_users_invite_refuses_bad_input_with_a_message_and_a_non_zero_exit(runner, users, args, message):
    users.make("student", email="taken@example.test")
    result = runner.invoke(args=["users", "invite", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "/invitations/" not in result.stdout and message in result.stderr
    assert count(AccessLink) == 0
