"""The bookings JSON API: request, list, read, confirm, decline and cancel, with the spec's shapes and statuses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking_app.models import Booking
from booking_app.services.sessions import issue_token
from tests.booking_helpers import NOW, open_hours
from tests.conftest import count

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Maria Lopez")
    open_hours(instructor)
    return instructor


def bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {issue_token(user)}"}


def test_requesting_a_slot_returns_201_with_the_booking_shape_and_history(client, users, maria):
    sam = users.make("student")
    response = client.post(
        "/api/bookings", json={"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z", "notes": "Hello"},
        headers=bearer(sam),
    )
    assert response.status_code == 201
    body = response.json
    assert {k: body[k] for k in ("instructor_id", "student_id", "start", "end", "status", "notes")} == {
        "instructor_id": maria.id, "student_id": sam.id, "start": "2026-02-05T14:00:00Z",
        "end": "2026-02-05T15:00:00Z", "status": "pending", "notes": "Hello",
    }
    assert body["created_at"] == "2026-02-02T08:00:00Z" and body["expires_at"] == "2026-02-02T12:00:00Z"
    assert body["history"] == [{"at": "2026-02-02T08:00:00Z", "actor_id": sam.id, "from": None, "to": "pending", "note": ""}]


def test_a_repeated_request_returns_200_with_the_same_booking(client, users, maria):
    headers = bearer(users.make("student"))
    payload = {"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z"}
    first = client.post("/api/bookings", json=payload, headers=headers)
    second = client.post("/api/bookings", json=payload, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json["id"] == second.json["id"]
    assert count(Booking) == 1


def test_a_taken_slot_answers_409_and_a_closed_time_answers_422(client, users, maria):
    payload = {"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z"}
    client.post("/api/bookings", json=payload, headers=bearer(users.make("student")))
    taken = client.post("/api/bookings", json=payload, headers=bearer(users.make("student")))
    assert taken.status_code == 409
    assert taken.json == {"error": {"code": "slot_taken", "message": "This time is no longer available. Select another."}}
    closed = client.post(
        "/api/bookings", json={"instructor_id": maria.id, "start": "2026-02-05T22:00:00Z"},
        headers=bearer(users.make("student")),
    )
    assert closed.status_code == 422 and closed.json["error"]["code"] == "not_open"


def test_a_request_without_a_start_is_refused_with_a_field_message(client, users, maria):
    response = client.post("/api/bookings", json={"instructor_id": maria.id}, headers=bearer(users.make("student")))
    assert response.status_code == 422
    assert "start" in response.json["error"]["message"]


def test_requests_need_a_signed_in_user(client, maria):
    response = client.post(
        "/api/bookings", json={"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z"},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert response.status_code == 401
    assert count(Booking) == 0


def test_the_instructor_confirms_and_declines_through_the_api(client, users, maria):
    sam = users.make("student")
    student, teacher = bearer(sam), bearer(maria)
    one = client.post("/api/bookings", json={"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z"}, headers=student).json
    two = client.post("/api/bookings", json={"instructor_id": maria.id, "start": "2026-02-06T14:00:00Z"}, headers=student).json
    confirmed = client.post(f"/api/bookings/{one['id']}/confirm", headers=teacher)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    assert confirmed.json["history"][-1]["actor_id"] == maria.id
    declined = client.post(f"/api/bookings/{two['id']}/decline", json={"reason": "Away"}, headers=teacher)
    assert declined.json["status"] == "declined" and declined.json["status_reason"] == "Away"
    again = client.post(f"/api/bookings/{two['id']}/confirm", headers=teacher)
    assert again.status_code == 409 and again.json["error"]["message"] == "This booking is already declined."


def test_a_student_cannot_confirm_and_a_stranger_gets_404(client, users, maria):
    sam = users.make("student")
    booking = client.post(
        "/api/bookings", json={"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z"}, headers=bearer(sam)
    ).json
    assert client.post(f"/api/bookings/{booking['id']}/confirm", headers=bearer(sam)).status_code == 403
    stranger = bearer(users.make("student"))
    assert client.get(f"/api/bookings/{booking['id']}", headers=stranger).status_code == 404
    assert client.post(f"/api/bookings/{booking['id']}/cancel", headers=stranger).status_code == 404


def test_the_student_cancels_without_a_body(client, users, maria):
    sam = bearer(users.make("student"))
    booking = client.post("/api/bookings", json={"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z"}, headers=sam).json
    response = client.post(f"/api/bookings/{booking['id']}/cancel", headers=sam)
    assert response.status_code == 200 and response.json["status"] == "cancelled"


def test_the_list_filters_by_effective_status_and_dates(app, client, users, maria):
    sam = bearer(users.make("student"))
    for day in ("05", "06", "07"):
        client.post("/api/bookings", json={"instructor_id": maria.id, "start": f"2026-02-{day}T14:00:00Z"}, headers=sam)
    listed = client.get("/api/bookings?from=2026-02-06&to=2026-02-07", headers=sam).json["bookings"]
    assert [b["start"] for b in listed] == ["2026-02-06T14:00:00Z"]
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=4)
    assert len(client.get("/api/bookings?status=expired", headers=sam).json["bookings"]) == 3
    assert client.get("/api/bookings?status=pending", headers=sam).json["bookings"] == []
    assert client.get("/api/bookings?status=soon", headers=sam).status_code == 422



def test_the_list_pages_with_limit_and_offset_by_start_time(client, users, maria):
    sam = bearer(users.make("student"))
    for day in ("09", "05", "07", "06", "08"):
        client.post("/api/bookings", json={"instructor_id": maria.id, "start": f"2026-02-{day}T14:00:00Z"}, headers=sam)
    starts = [b["start"][8:10] for b in client.get("/api/bookings", headers=sam).json["bookings"]]
    assert starts == ["05", "06", "07", "08", "09"]
    page = client.get("/api/bookings?limit=2&offset=2", headers=sam).json["bookings"]
    assert [b["start"][8:10] for b in page] == ["07", "08"]
    assert client.get("/api/bookings?offset=5", headers=sam).json["bookings"] == []
    for bad in ("limit=0", "limit=501", "offset=-1", "limit=many"):
        assert client.get(f"/api/bookings?{bad}", headers=sam).status_code == 422


def test_the_list_paging_parameters_are_documented(client):
    parameters = client.get("/api/openapi.json").json["paths"]["/api/bookings"]["get"]["parameters"]
    documented = {p["name"]: p for p in parameters}
    assert documented["limit"]["schema"]["default"] == 100 and documented["limit"]["schema"]["maximum"] == 500
    assert documented["offset"]["schema"]["default"] == 0

def test_the_owner_sees_every_booking_and_a_student_only_their_own(client, users, maria):
    owner, sam, other = users.make("owner"), users.make("student"), users.make("student")
    client.post("/api/bookings", json={"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z"}, headers=bearer(sam))
    assert len(client.get("/api/bookings", headers=bearer(owner)).json["bookings"]) == 1
    assert client.get("/api/bookings", headers=bearer(other)).json["bookings"] == []


def test_the_booking_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for path in ("/api/bookings", "/api/bookings/{booking_id}", "/api/bookings/{booking_id}/confirm",
                 "/api/bookings/{booking_id}/decline", "/api/bookings/{booking_id}/cancel"):
        assert path in paths
    assert {"201", "200", "409", "422"} <= set(paths["/api/bookings"]["post"]["responses"])


def test_booking_requests_are_rate_limited_per_user(client, users, maria):
    headers = bearer(users.make("student"))
    payload = {"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z"}
    codes = [client.post("/api/bookings", json=payload, headers=headers).status_code for _ in range(31)]
    assert codes[:30] == [201] + [200] * 29
    assert codes[30] == 429
