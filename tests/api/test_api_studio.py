"""GET /api/studio for anyone signed in; PATCH /api/studio for the owner, with the service's sentences."""

from __future__ import annotations

import pytest

from booking_app.services.sessions import issue_token
from booking_app.services.studio import get_studio


def _bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {issue_token(user, 'test')}"}


def test_anyone_signed_in_reads_the_studio_rules(client, users):
    response = client.get("/api/studio", headers=_bearer(users.make("student")))
    assert response.status_code == 200
    assert response.json == {"horizon": "end_of_month", "pending_expiry_hours": 4, "cancellation_window_hours": 24,
                             "series_max_weeks": 12}


def test_a_visitor_cannot_read_the_studio_rules(client):
    response = client.get("/api/studio")
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_the_owner_changes_the_horizon_expiry_and_cancellation_window(app, client, users):
    response = client.patch("/api/studio", headers=_bearer(users.make("owner")), json={
        "horizon": "days", "horizon_days": 30, "pending_expiry_hours": 12, "cancellation_window_hours": 48,
    })
    assert response.status_code == 200
    assert response.json == {"horizon": "days", "horizon_days": 30, "pending_expiry_hours": 12,
                             "cancellation_window_hours": 48, "series_max_weeks": 12}
    from booking_app.extensions import db

    db.session.expire_all()
    studio = get_studio()
    assert (studio.horizon, studio.horizon_days, studio.pending_expiry_hours, studio.cancellation_window_hours) == (
        "days", 30, 12, 48)


def test_the_owner_may_change_the_number_of_days_alone_once_the_horizon_is_in_days(client, users):
    headers = _bearer(users.make("owner"))
    client.patch("/api/studio", headers=headers, json={"horizon": "days", "horizon_days": 30})
    assert client.patch("/api/studio", headers=headers, json={"horizon_days": 45}).json["horizon_days"] == 45
    client.patch("/api/studio", headers=headers, json={"horizon": "end_of_month"})
    refused = client.patch("/api/studio", headers=headers, json={"horizon_days": 45})
    assert refused.status_code == 422 and "days" in refused.json["error"]["message"]


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_only_the_owner_may_change_the_studio_rules(client, users, role):
    response = client.patch("/api/studio", headers=_bearer(users.make(role)), json={"pending_expiry_hours": 1})
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert get_studio().pending_expiry_hours == 4


@pytest.mark.parametrize(("body", "sentence"), [
    ({"horizon": "forever"}, "Choose end of month, end of next month or a number of days."),
    ({"horizon": "days", "horizon_days": 0}, "Enter a booking horizon between 1 and 365 days."),
    ({"pending_expiry_hours": 0}, "Requests must expire after 1 to 168 hours."),
    ({"cancellation_window_hours": 400}, "The cancellation window must be 0 to 336 hours."),
])
def test_bad_values_answer_422_with_the_services_sentence(client, users, body, sentence):
    response = client.patch("/api/studio", headers=_bearer(users.make("owner")), json=body)
    assert response.status_code == 422
    assert response.json["error"]["message"] == sentence


def test_the_openapi_document_describes_the_studio_endpoints(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"get", "patch"} <= set(paths["/api/studio"])
