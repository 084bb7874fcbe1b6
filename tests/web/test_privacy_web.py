"""The profile's privacy section, the delete confirm page, the JSON API for both, and the owner's audit log page."""

from __future__ import annotations

import csv
import io
import json

import pytest

from booking_app.extensions import db
from booking_app.models import Booking, User
from booking_app.services.bookings import confirm, request_booking
from booking_app.services.messages import send_message
from booking_app.services.sessions import issue_token
from booking_app.services.users import change_role, set_active
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import Users

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def lesson(users):
    owner = users.make("owner", name="Olivia Owner")
    ada = users.make("instructor", name="Ada Lovelace")
    sam = users.make("student", name="Sam Student", email="sam@example.test")
    open_hours(ada)
    booking = request_booking(sam, ada.id, at(2, 15)).booking  # inside the 24-hour cancellation window
    confirm(ada, booking.id)
    send_message(booking, sam, "See you soon")
    return {"owner": owner, "ada": ada, "sam": sam, "booking": booking}


def test_the_profile_offers_the_download_and_the_deletion(client, auth, lesson):
    auth.login(lesson["sam"])
    page = client.get("/profile").get_data(as_text=True)
    assert 'href="/profile/export"' in page and "Download my data" in page
    assert 'href="/profile/delete"' in page and "Delete my account" in page


def test_my_data_downloads_as_a_json_file(client, auth, lesson):
    auth.login(lesson["sam"])
    response = client.get("/profile/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="my-data-2026-02-02')
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["email"] == "sam@example.test"
    assert [b["id"] for b in data["bookings"]] == [lesson["booking"].id]
    assert [m["body"] for m in data["messages"]] == ["See you soon"]


def test_the_confirm_page_says_what_will_be_cancelled_and_asks_for_the_password(client, auth, lesson):
    auth.login(lesson["sam"])
    page = client.get("/profile/delete").get_data(as_text=True)
    assert "1 lesson or request ahead" in page and "even inside the cancellation window" in page
    assert 'type="password"' in page and "cannot be undone" in page


def test_a_wrong_password_or_no_tick_deletes_nothing(client, auth, lesson):
    auth.login(lesson["sam"])
    wrong = client.post("/profile/delete", data={"password": "not it", "understood": "y"})
    assert wrong.status_code == 200 and "That password is not right." in wrong.get_data(as_text=True)
    untick = client.post("/profile/delete", data={"password": Users.password})
    assert "Tick the box to confirm" in untick.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, lesson["sam"].id).deleted_at is None


def test_deleting_signs_the_person_out_tells_them_and_they_cannot_sign_in_again(client, auth, lesson):
    auth.login(lesson["sam"])
    response = client.post("/profile/delete", data={"password": Users.password, "understood": "y"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Your account is deleted and you are signed out." in page
    assert "1 lesson or request ahead was cancelled" in page
    assert client.get("/profile").status_code == 302  # signed out
    again = auth.login(lesson["sam"]).get_data(as_text=True)
    assert "That email and password do not match" in again
    db.session.expire_all()
    assert db.session.get(Booking, lesson["booking"].id).status == "cancelled"


def test_the_other_person_sees_the_messages_from_deleted_user(client, auth, lesson):
    auth.login(lesson["sam"])
    client.post("/profile/delete", data={"password": Users.password, "understood": "y"})
    auth.login(lesson["ada"])
    page = client.get(f"/bookings/{lesson['booking'].id}").get_data(as_text=True)
    assert "Deleted user" in page and "See you soon" in page and "Sam Student" not in page


def test_the_last_owner_is_told_to_make_someone_else_owner(client, auth, lesson):
    auth.login(lesson["owner"])
    page = client.post("/profile/delete", data={"password": Users.password, "understood": "y"}).get_data(as_text=True)
    assert "You are the studio&#39;s only owner" in page or "You are the studio's only owner" in page
    db.session.expire_all()
    assert db.session.get(User, lesson["owner"].id).deleted_at is None


# --- the API ---------------------------------------------------------------------------------------


def _bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user, 'test')}"}


def test_the_api_exports_my_data(client, lesson):
    response = client.get("/api/me/export", headers=_bearer(lesson["sam"]))
    assert response.status_code == 200
    data = response.get_json()
    assert {"profile", "bookings", "messages", "notifications"} <= data.keys()
    assert data["bookings"][0]["starts_at"] == "2026-02-02T15:00:00Z"


def test_the_api_deletes_my_account_with_the_right_password_only(client, lesson):
    headers = _bearer(lesson["sam"])
    wrong = client.post("/api/me/delete", json={"password": "not it"}, headers=headers)
    assert wrong.status_code == 403 and wrong.get_json()["error"]["code"] == "wrong_password"
    assert client.post("/api/me/delete", json={}, headers=headers).status_code == 422
    done = client.post("/api/me/delete", json={"password": Users.password}, headers=headers)
    assert done.status_code == 204 and done.get_data() == b""
    assert client.get("/api/me", headers=headers).status_code == 401  # its token is revoked


def test_the_api_refuses_the_last_owner_with_409(client, lesson):
    response = client.post("/api/me/delete", json={"password": Users.password}, headers=_bearer(lesson["owner"]))
    assert response.status_code == 409 and "Make someone else owner" in response.get_json()["error"]["message"]


def test_both_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/me/export"] and "post" in paths["/api/me/delete"]
    assert {"204", "403", "409"} <= paths["/api/me/delete"]["post"]["responses"].keys()


# --- the audit log page ----------------------------------------------------------------------------


def test_the_owner_reads_account_and_booking_changes_with_deleted_users_named_so(client, auth, lesson, users):
    owner, sam = lesson["owner"], lesson["sam"]
    priya = users.make("student", name="Priya Patel")
    change_role(priya, "instructor", acting=owner)
    set_active(priya, False, acting=owner)
    auth.login(sam)
    client.post("/profile/delete", data={"password": Users.password, "understood": "y"})
    auth.login(owner)
    page = client.get("/admin/audit").get_data(as_text=True)
    for words in ("changed the role of", "from student to instructor", "deactivated the account of",
                  "deleted their own account", "requested a lesson", "confirmed a lesson", "cancelled a lesson",
                  "The student deleted their account."):
        assert words in page
    assert "Deleted user" in page and "Sam Student" not in page
    assert 'href="/admin/audit"' in client.get("/dashboard").get_data(as_text=True)  # in the owner's menu


def test_the_audit_log_filters_by_person_and_exports_the_filtered_list_as_csv(client, auth, lesson, users):
    owner = lesson["owner"]
    priya = users.make("student", name="Priya Patel")
    change_role(priya, "instructor", acting=owner)
    auth.login(owner)
    page = client.get(f"/admin/audit?person={priya.id}").get_data(as_text=True)
    assert "changed the role of" in page and "requested a lesson" not in page
    response = client.get(f"/admin/audit.csv?person={lesson['sam'].id}&from=2026-02-01&to=2026-02-28")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-2026-02-01-to-2026-02-28.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["confirmed", "requested"]
    assert rows[1]["actor"] == "Sam Student" and rows[1]["at_utc"] == "2026-02-02T08:00:00Z"
    assert rows[0]["booking_id"] == str(lesson["booking"].id)


def test_the_audit_log_explains_dates_it_could_not_use(client, auth, lesson):
    auth.login(lesson["owner"])
    page = client.get("/admin/audit?from=2200-01-01&to=nonsense&person=abc").get_data(as_text=True)
    assert "The last 30 days are shown." in page and "last 30 days are shown" in page
    assert "No person has that number" in page
    before = client.get("/admin/audit?from=2026-01-01&to=2026-01-31").get_data(as_text=True)
    assert "Nothing happened in this range" in before


def test_the_people_page_marks_a_deleted_account_and_offers_no_reactivation(client, auth, lesson):
    auth.login(lesson["sam"])
    client.post("/profile/delete", data={"password": Users.password, "understood": "y"})
    auth.login(lesson["owner"])
    page = client.get("/admin/users").get_data(as_text=True)
    assert ">Deleted<" in page and "deleted.invalid" not in page
    assert f"/admin/users/{lesson['sam'].id}/active" not in page


@pytest.mark.app_config(FROZEN_NOW=NOW, RATELIMIT_ENABLED=True)
def test_password_guesses_are_limited_across_the_page_and_the_api(client, auth, lesson):
    auth.login(lesson["sam"])
    headers = _bearer(lesson["sam"])
    for n in range(10):
        if n % 2:
            assert client.post("/api/me/delete", json={"password": f"guess {n}"}, headers=headers).status_code == 403
        else:
            assert client.post("/profile/delete", data={"password": f"guess {n}", "understood": "y"}).status_code == 200
    refused = client.post("/api/me/delete", json={"password": Users.password}, headers=headers)
    assert refused.status_code == 429 and "Wait an hour" in refused.get_json()["error"]["message"]
    assert client.post("/profile/delete", data={"password": Users.password, "understood": "y"}).status_code == 429
    db.session.expire_all()
    assert db.session.get(User, lesson["sam"].id).deleted_at is None


@pytest.mark.parametrize("raw", ["1e20", str(2**31), str(2**63), "-5", str(10**30), "%00"])
def test_the_audit_log_takes_any_page_person_or_date_without_failing(client, auth, lesson, raw):
    auth.login(lesson["owner"])
    for path in (f"/admin/audit?page={raw}", f"/admin/audit?person={raw}", f"/admin/audit?from={raw}&to={raw}",
                 f"/admin/audit.csv?person={raw}&from={raw}", "/admin/audit?from=0001-01-01&to=9999-12-31"):
        assert client.get(path).status_code == 200, path
    page = client.get("/admin/audit?from=1970-01-01&to=2100-12-31").get_data(as_text=True)
    assert "requested a lesson" in page and "alert-warning" not in page


def test_a_nul_byte_in_the_password_is_refused_with_a_sentence(client, auth, lesson):
    auth.login(lesson["sam"])
    page = client.post("/profile/delete", data={"password": "a\x00b", "understood": "y"}).get_data(as_text=True)
    assert "password" in page and "invalid-feedback" in page
    response = client.post("/api/me/delete", json={"password": "a\x00b"}, headers=_bearer(lesson["sam"]))
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, lesson["sam"].id).deleted_at is None
