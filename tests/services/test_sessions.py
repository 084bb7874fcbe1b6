"""Sessions live on the server and tokens can expire and be revoked: a copied cookie or token stops working."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import ApiToken, UserSession
from booking_app.services.sessions import (
    issue_token,
    revoke_all_tokens,
    start_session,
    tokens_of,
    user_for_session,
    user_for_token,
)
from booking_app.services.users import set_active
from tests.conftest import utc

NOW = utc(2027, 2, 1, 12, 0)


def _copy_cookie(source, target) -> None:  # type: ignore[no-untyped-def]
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value)


def test_a_cookie_copied_before_sign_out_no_longer_works_after_it(app, client, auth, users):
    user = users.make()
    auth.login(user)
    thief = app.test_client()
    _copy_cookie(client, thief)
    assert thief.get("/profile").status_code == 200
    auth.logout()
    assert thief.get("/profile").status_code == 302  # sent to sign in
    assert client.get("/profile").status_code == 302


def test_signing_out_ends_only_that_session(app, users):
    user = users.make()
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        browser.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 2
    laptop.post("/logout")
    assert laptop.get("/profile").status_code == 302
    assert phone.get("/profile").status_code == 200


def test_sign_out_everywhere_ends_every_session(app, users):
    user = users.make()
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        browser.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert "signed in on 2 browsers" in phone.get("/profile").get_data(as_text=True)
    response = phone.post("/profile/sessions/end", follow_redirects=True)
    assert "You are signed out on every device (2 sessions ended)" in response.get_data(as_text=True)
    assert laptop.get("/profile").status_code == 302
    assert phone.get("/profile").status_code == 302


def test_a_forged_user_id_without_a_session_signs_nobody_in(client, users):
    user = users.make()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    assert client.get("/profile").status_code == 302


def test_deactivating_a_user_ends_their_sessions_and_tokens(app, client, auth, users):
    owner, student = users.make("owner"), users.make()
    token = issue_token(student, "phone")
    browser = app.test_client()
    browser.post("/login", data={"email": student.email, "password": "correct horse battery"})
    assert browser.get("/profile").status_code == 200
    set_active(student, False, acting=owner)
    assert browser.get("/profile").status_code == 302
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    set_active(student, True, acting=owner)
    assert browser.get("/profile").status_code == 302  # reactivation does not bring old sessions back
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_an_expiring_token_works_until_its_expiry(app, client, users):
    app.config["FROZEN_NOW"] = NOW
    user = users.make()
    token = issue_token(user, "week", expires_in_days=7)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    app.config["FROZEN_NOW"] = NOW + timedelta(days=7)
    assert client.get("/api/me", headers=headers).status_code == 401
    assert tokens_of(user) == []


def test_last_use_is_written_at_most_once_a_minute(app, client, users):
    app.config["FROZEN_NOW"] = NOW
    user = users.make()
    token = issue_token(user)
    headers = {"Authorization": f"Bearer {token}"}
    statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    client.get("/api/me", headers=headers)
    client.get("/api/me", headers=headers)
    app.config["FROZEN_NOW"] = NOW + timedelta(seconds=59)
    client.get("/api/me", headers=headers)
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE API_TOKENS")]
    assert len(updates) == 1
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) == NOW
    app.config["FROZEN_NOW"] = NOW + timedelta(minutes=2)
    client.get("/api/me", headers=headers)
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) == NOW + timedelta(minutes=2)


def test_the_profile_lists_tokens_with_their_last_use_and_revokes_them(app, client, auth, users):
    user = users.make()
    auth.login(user)
    response = client.post("/profile/tokens", data={"name": "Calendar sync", "expires_in_days": "30"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Your new API token (copy it now, it is shown only once): bk_" in page
    token = page.split("shown only once): ")[1].split("<")[0].strip()
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page = client.get("/profile").get_data(as_text=True)
    assert "Calendar sync" in page and "last used" in page and "expires" in page
    token_id = db.session.scalar(sa.select(ApiToken.id))
    client.post(f"/profile/tokens/{token_id}/revoke")
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "You have no API tokens." in client.get("/profile").get_data(as_text=True)


def test_a_token_with_a_bad_expiry_is_refused_with_a_sentence(client, auth, users):
    auth.login(users.make())
    page = client.post("/profile/tokens", data={"name": "x", "expires_in_days": "99999"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Choose an expiry between 1 and 3650 days, or leave it empty." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_another_persons_token_cannot_be_revoked(client, auth, users):
    owner_of_token, other = users.make(), users.make()
    issue_token(owner_of_token)
    auth.login(other)
    token_id = db.session.scalar(sa.select(ApiToken.id))
    page = client.post(f"/profile/tokens/{token_id}/revoke", follow_redirects=True).get_data(as_text=True)
    assert "That token does not exist." in page
    assert user_for_token_works(owner_of_token)


def user_for_token_works(user) -> bool:  # type: ignore[no-untyped-def]
    return db.session.scalar(sa.select(ApiToken.revoked_at).where(ApiToken.user_id == user.id)) is None


def test_the_cli_revokes_every_token_of_a_user(runner, users):
    user = users.make()
    tokens = [issue_token(user, f"t{i}") for i in range(3)]
    result = runner.invoke(args=["users", "revoke-tokens", user.email])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "3"
    assert all(user_for_token(t) is None for t in tokens)
    assert revoke_all_tokens(user) == 0


def test_the_cli_issues_an_expiring_token(app, runner, users):
    app.config["FROZEN_NOW"] = NOW
    user = users.make()
    result = runner.invoke(args=["users", "token", user.email, "--expires-days", "2"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(ApiToken.expires_at)) == NOW + timedelta(days=2)


def test_the_shared_session_statement_answers_each_person_with_their_own_secret_only(app, users):
    owner, first, second = users.make("owner"), users.make(), users.make()
    first_secret, second_secret = start_session(first), start_session(second)
    assert user_for_session(first.id, first_secret).id == first.id  # type: ignore[union-attr]
    assert user_for_session(second.id, second_secret).id == second.id  # type: ignore[union-attr]
    # One person's secret with the other's id signs nobody in, either way round.
    assert user_for_session(first.id, second_secret) is None
    assert user_for_session(second.id, first_secret) is None
    second.active = False  # the flag alone, with the session row still open: the statement checks it too
    db.session.commit()
    assert user_for_session(second.id, second_secret) is None
    set_active(first, False, acting=owner)
    assert user_for_session(first.id, first_secret) is None
