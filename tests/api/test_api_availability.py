"""Availability JSON API: shapes, permissions, errors, and a real week's slots across a DST change."""

from __future__ import annotations

from datetime import date, time

import pytest

from booking_app.services import availability as service
from booking_app.services.sessions import issue_token
from tests.conftest import utc

NOW = utc(2027, 3, 1, 12, 0)  # Monday 1 March 2027; New York springs forward on Sunday 14 March
frozen = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def teacher(users):
    return users.make("instructor", name="Ines Teacher", timezone="America/New_York")


def bearer(user):
    return {"Authorization": f"Bearer {issue_token(user)}"}


def set_up_real_week(client, teacher):
    """Enter the issue's week through the schedule forms, from the week view and the month view."""
    def post(path, **data):
        data.setdefault("instructor", str(teacher.id))
        response = client.post(path, data=data)
        assert response.status_code == 302, response.get_data(as_text=True)

    post("/schedule/windows", view="week", back_on="2027-03-02", occurs_on="2027-03-02", start_time="14:00",
         end_time="18:00", lesson_minutes="60", repeat="weekly")
    post("/schedule/windows", view="month", back_on="2027-03-01", occurs_on="2027-03-04", start_time="10:00",
         end_time="14:00", lesson_minutes="60", repeat="weekly")
    post("/schedule/windows", view="month", back_on="2027-03-01", occurs_on="2027-03-13", start_time="09:00",
         end_time="12:00", lesson_minutes="60", repeat="once")
    post("/schedule/blocks", view="week", back_on="2027-03-22", start_on="2027-03-22", end_on="2027-03-28",
         start_time="", end_time="", reason="Vacation")


@frozen
def test_the_slots_api_shows_exactly_the_week_set_up_in_the_forms_across_the_dst_change(client, auth, teacher):
    auth.login(teacher)
    set_up_real_week(client, teacher)

    response = client.get(f"/api/instructors/{teacher.id}/slots?start=2027-03-08&end=2027-03-31")
    assert response.status_code == 200
    body = response.get_json()
    by_day: dict[str, list[str]] = {}
    for slot in body["slots"]:
        assert set(slot) >= {"start", "end", "local_date", "local_start", "local_end"}
        by_day.setdefault(slot["local_date"], []).append(f'{slot["local_start"]}-{slot["local_end"]} {slot["start"]}')
    assert by_day == {
        # EST (UTC-5)
        "2027-03-09": [f"{h}:00-{h + 1}:00 2027-03-09T{h + 5}:00:00Z" for h in (14, 15, 16, 17)],
        "2027-03-11": [f"{h}:00-{h + 1}:00 2027-03-11T{h + 5}:00:00Z" for h in (10, 11, 12, 13)],
        "2027-03-13": ["09:00-10:00 2027-03-13T14:00:00Z", "10:00-11:00 2027-03-13T15:00:00Z", "11:00-12:00 2027-03-13T16:00:00Z"],
        # EDT (UTC-4) after Sunday 14 March: same wall clock, UTC moves an hour
        "2027-03-16": [f"{h}:00-{h + 1}:00 2027-03-16T{h + 4}:00:00Z" for h in (14, 15, 16, 17)],
        "2027-03-18": [f"{h}:00-{h + 1}:00 2027-03-18T{h + 4}:00:00Z" for h in (10, 11, 12, 13)],
        # 22–28 March is the vacation; 30 March is the last Tuesday before the end-of-month horizon
        "2027-03-30": [f"{h}:00-{h + 1}:00 2027-03-30T{h + 4}:00:00Z" for h in (14, 15, 16, 17)],
    }
    assert body["slots"][0]["end"] == "2027-03-09T20:00:00Z"


@frozen
def test_slots_are_reported_in_the_viewers_timezone_when_asked(client, teacher):
    service.add_weekly_window(teacher, teacher.id, weekday=2, start_time=time(14), end_time=time(16), lesson_minutes=60)
    body = client.get(f"/api/instructors/{teacher.id}/slots?start=2027-03-16&end=2027-03-16&tz=Europe/London").get_json()
    assert body["timezone"] == "Europe/London"
    assert [(s["local_date"], s["local_start"], s["local_end"], s["start"]) for s in body["slots"]] == [
        ("2027-03-16", "18:00", "19:00", "2027-03-16T18:00:00Z"),
        ("2027-03-16", "19:00", "20:00", "2027-03-16T19:00:00Z"),
    ]


@pytest.mark.parametrize(
    ("query", "word"),
    [("start=2027-03-10&end=2027-03-01", "end"), ("start=2027-03-01&end=2027-03-02&tz=Mars/Base", "tz"),
     ("start=2027-01-01&end=2027-12-31", "end"), ("end=2027-03-02", "start")],
)
def test_bad_slot_queries_answer_422_with_a_message(client, teacher, query, word):
    response = client.get(f"/api/instructors/{teacher.id}/slots?{query}")
    assert response.status_code == 422
    assert word in response.get_json()["error"]["message"]


def test_unknown_instructors_are_404_everywhere(client, users):
    owner = users.make("owner")
    headers = bearer(owner)
    for method, path in [("get", "/api/instructors/999"), ("get", "/api/instructors/999/availability"),
                         ("get", "/api/instructors/999/slots?start=2027-03-01&end=2027-03-02"),
                         ("post", "/api/instructors/999/blocks"), ("patch", "/api/instructors/999/settings")]:
        body = {"buffer_minutes": 5} if method == "patch" else {"start_date": "2027-03-01"}
        response = getattr(client, method)(path, headers=headers, json=body)
        assert response.status_code == 404, (method, path)
        assert response.get_json()["error"]["code"] == "not_found"


def test_the_instructor_list_and_detail_are_public(client, teacher, users):
    users.make("student")
    listed = client.get("/api/instructors").get_json()
    assert listed == [{"id": teacher.id, "name": "Ines Teacher", "initials": "IT", "timezone": "America/New_York", "default_lesson_minutes": 60}]
    assert client.get(f"/api/instructors/{teacher.id}").get_json()["name"] == "Ines Teacher"


def test_windows_and_blocks_round_trip_in_the_spec_shapes(client, teacher):
    headers = bearer(teacher)
    base = f"/api/instructors/{teacher.id}"
    weekly = client.post(f"{base}/availability/weekly", headers=headers, json={
        "weekday": 2, "start_time": "14:00", "end_time": "18:00", "lesson_minutes": 60, "effective_from": "2027-03-02"})
    assert weekly.status_code == 201
    assert weekly.get_json() == {"id": weekly.get_json()["id"], "weekday": 2, "start_time": "14:00", "end_time": "18:00",
                                 "lesson_minutes": 60, "effective_from": "2027-03-02", "effective_until": None}
    once = client.post(f"{base}/availability/one-time", headers=headers, json={
        "date": "2027-03-13", "start_time": "09:00", "end_time": "12:00", "lesson_minutes": 45})
    assert once.status_code == 201 and once.get_json()["date"] == "2027-03-13"
    block = client.post(f"{base}/blocks", headers=headers, json={"start_date": "2027-03-22", "end_date": "2027-03-28", "reason": "Vacation"})
    assert block.status_code == 201
    assert block.get_json() == {"id": block.get_json()["id"], "start_date": "2027-03-22", "end_date": "2027-03-28",
                                "start_time": None, "end_time": None, "reason": "Vacation"}

    everything = client.get(f"{base}/availability").get_json()
    assert [w["id"] for w in everything["weekly"]] == [weekly.get_json()["id"]]
    assert [w["id"] for w in everything["one_time"]] == [once.get_json()["id"]]
    assert everything["blocks"][0]["reason"] == ""  # anonymous readers never see reasons
    assert client.get(f"{base}/availability", headers=headers).get_json()["blocks"][0]["reason"] == "Vacation"

    cut = client.delete(f"{base}/availability/weekly/{weekly.get_json()['id']}?from=2027-03-16", headers=headers)
    assert cut.status_code == 204
    assert client.get(f"{base}/availability").get_json()["weekly"][0]["effective_until"] == "2027-03-15"
    assert client.delete(f"{base}/availability/weekly/{weekly.get_json()['id']}", headers=headers).status_code == 204
    assert client.delete(f"{base}/availability/one-time/{once.get_json()['id']}", headers=headers).status_code == 204
    assert client.delete(f"{base}/blocks/{block.get_json()['id']}", headers=headers).status_code == 204
    assert client.get(f"{base}/availability").get_json() | {"instructor_id": 0} == {
        "instructor_id": 0, "timezone": "America/New_York", "weekly": [], "one_time": [], "blocks": []}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"weekday": 2, "start_time": "18:00", "end_time": "14:00", "lesson_minutes": 60}, "end time must be after the start time"),
        ({"weekday": 2, "start_time": "14:00", "end_time": "14:30", "lesson_minutes": 60}, "shorter than one 60-minute lesson"),
        ({"weekday": 9, "start_time": "14:00", "end_time": "18:00", "lesson_minutes": 60}, "weekday"),
        ({"weekday": 2, "start_time": "2pm", "end_time": "18:00", "lesson_minutes": 60}, "24-hour time"),
    ],
)
def test_an_invalid_window_is_422_with_a_clear_message(client, teacher, payload, message):
    response = client.post(f"/api/instructors/{teacher.id}/availability/weekly", headers=bearer(teacher), json=payload)
    assert response.status_code == 422
    assert message in response.get_json()["error"]["message"]


def test_writes_need_the_instructor_themselves_or_the_owner(client, users, teacher):
    other = users.make("instructor")
    student = users.make("student")
    owner = users.make("owner")
    path = f"/api/instructors/{teacher.id}/blocks"
    body = {"start_date": "2027-03-09"}
    assert client.post(path, json=body).status_code == 401  # anonymous: sign in first
    assert client.post(path, json=body, headers=bearer(student)).status_code == 403
    assert client.post(path, json=body, headers=bearer(other)).status_code == 403
    assert client.patch(f"/api/instructors/{teacher.id}/settings", json={"buffer_minutes": 5}, headers=bearer(other)).status_code == 403
    created = client.post(path, json=body, headers=bearer(owner))
    assert created.status_code == 201
    block_id = created.get_json()["id"]
    assert client.delete(f"{path}/{block_id}", headers=bearer(student)).status_code == 403
    assert client.delete(f"/api/instructors/{other.id}/blocks/{block_id}", headers=bearer(other)).status_code == 404
    assert client.delete(f"{path}/{block_id}", headers=bearer(teacher)).status_code == 204


def test_settings_are_read_and_patched_in_the_spec_shape(client, teacher):
    headers = bearer(teacher)
    path = f"/api/instructors/{teacher.id}/settings"
    patched = client.patch(path, headers=headers, json={"buffer_minutes": 15, "min_notice_minutes": 240})
    assert patched.status_code == 200
    assert patched.get_json() == {"timezone": "America/New_York", "default_lesson_minutes": 60, "buffer_minutes": 15, "min_notice_minutes": 240}
    bad = client.patch(path, headers=headers, json={"timezone": "Nowhere/Land"})
    assert bad.status_code == 422 and "timezone" in bad.get_json()["error"]["message"]
    assert client.get(path, headers=headers).get_json()["buffer_minutes"] == 15


def test_the_openapi_document_describes_the_availability_endpoints(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ["/api/instructors", "/api/instructors/{instructor_id}/availability", "/api/instructors/{instructor_id}/slots",
                 "/api/instructors/{instructor_id}/availability/weekly", "/api/instructors/{instructor_id}/blocks/{block_id}",
                 "/api/instructors/{instructor_id}/settings"]:
        assert path in paths, path


@frozen
def test_a_block_made_over_the_api_removes_its_slots(client, teacher):
    service.add_one_time_window(teacher, teacher.id, occurs_on=date(2027, 3, 13), start_time=time(9), end_time=time(12), lesson_minutes=60)
    client.post(f"/api/instructors/{teacher.id}/blocks", headers=bearer(teacher),
                json={"start_date": "2027-03-13", "start_time": "10:00", "end_time": "11:00"})
    slots = client.get(f"/api/instructors/{teacher.id}/slots?start=2027-03-13&end=2027-03-13").get_json()["slots"]
    assert [s["local_start"] for s in slots] == ["09:00", "11:00"]
