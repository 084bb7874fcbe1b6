"""Bounds at the edge: far dates, huge numbers, NUL and lone surrogates, oversize and deep bodies.

Every form and JSON endpoint that takes such a field answers a 4xx with a sentence and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from booking_app.domain import bounds
from booking_app.extensions import db
from booking_app.models import Block, OneTimeWindow, WeeklyWindow
from booking_app.services import bookings as booking_service
from booking_app.services.bookings import series as series_service
from booking_app.services.sessions import issue_token
from tests.conftest import utc

NOW = utc(2027, 3, 1, 12, 0)  # Monday 1 March 2027
TODAY = NOW.date()
pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW, RATELIMIT_ENABLED=False)

HUGE = [2**31, 2**63, 10**30]
BAD_TEXT = ["a\x00b", "a\ud800b"]
FAR_DATES = ["9999-12-31", "0001-01-01", (TODAY + timedelta(days=5 * 366 + 2)).isoformat(),
             (TODAY - timedelta(days=368)).isoformat()]
DEEP = b"[" * 100_000 + b"]" * 100_000
OVERSIZE = json.dumps({"notes": "x" * (bounds.MAX_BODY_BYTES + 10)}).encode()


# --- the world and what "nothing written" means --------------------------------------------------------


@pytest.fixture
def world(app, users):
    """An owner, an instructor in New York with open hours, a student with a pending request."""
    owner = users.make("owner", name="Olive Owner")
    teacher = users.make("instructor", name="Ines Teacher", timezone="America/New_York")
    student = users.make("student", name="Sam Student")
    for weekday in range(1, 8):
        db.session.add(WeeklyWindow(instructor_id=teacher.id, weekday=weekday, start_time=time(9),
                                    end_time=time(17), lesson_minutes=60))
    one = OneTimeWindow(instructor_id=teacher.id, occurs_on=date(2027, 3, 20), start_time=time(9),
                        end_time=time(12), lesson_minutes=60)
    block = Block(instructor_id=teacher.id, start_on=date(2027, 3, 25), end_on=date(2027, 3, 25), reason="")
    db.session.add_all([one, block])
    db.session.commit()
    booking = booking_service.request_booking(student, teacher.id, utc(2027, 3, 3, 15, 0), 60, "Hi").booking
    weekly = db.session.scalars(sa.select(WeeklyWindow).where(WeeklyWindow.instructor_id == teacher.id)).first()
    tokens = {who.role: issue_token(who) for who in (owner, teacher, student)}
    series = series_service.request_series(student, teacher.id, utc(2027, 3, 4, 15, 0), 60, 2).series
    return {"owner": owner, "teacher": teacher, "student": student, "booking": booking, "weekly": weekly,
            "one_time": one, "block": block, "tokens": tokens, "series": series}


# Bookkeeping that any signed-in request may touch (a token's last use), not something the request wrote.
BOOKKEEPING = {("api_tokens", "last_used_at")}


def snapshot() -> str:
    """Return a hash of every row of every table (bookkeeping columns aside)."""
    db.session.rollback()
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if (table.name, c.name) not in BOOKKEEPING]
        rows = db.session.execute(sa.select(*columns)).all()
        digest.update(f"{table.name}:{len(rows)}:{sorted(map(repr, rows))}".encode())
    db.session.rollback()
    return digest.hexdigest()


def assert_refused(response: Any, statuses: tuple[int, ...] = (400, 404, 413, 422)) -> None:
    """Assert a 4xx answer that carries a complete sentence."""
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:500])
    message = response.get_json()["error"]["message"] if response.is_json else response.get_data(as_text=True)
    assert "." in message and len(message) > 20, message


# --- 1. dates -------------------------------------------------------------------------------------------


def api(client, world, method, path, role="instructor", **kwargs):
    headers = {"Authorization": f"Bearer {world['tokens'][role]}"}
    return client.open(path, method=method, headers=headers, **kwargs)


@pytest.mark.parametrize("first,last", [("9999-12-30", "9999-12-31"), ("0001-01-01", "0001-01-02")])
def test_a_block_on_far_dates_is_refused_by_the_api_and_saves_nothing(client, world, first, last):
    before = snapshot()
    response = api(client, world, "POST", f"/api/instructors/{world['teacher'].id}/blocks",
                   json={"start_date": first, "end_date": last})
    assert_refused(response, (422,))
    assert "start date" in response.get_json()["error"]["message"]
    assert snapshot() == before


@pytest.mark.parametrize("far", ["0001-01-01", "9999-12-31"])
def test_windows_on_far_dates_are_refused_by_the_api(client, world, far):
    teacher = world["teacher"].id
    before = snapshot()
    assert_refused(api(client, world, "POST", f"/api/instructors/{teacher}/availability/one-time",
                       json={"date": far, "start_time": "09:00", "end_time": "10:00", "lesson_minutes": 60}), (422,))
    assert_refused(api(client, world, "POST", f"/api/instructors/{teacher}/availability/weekly",
                       json={"weekday": 1, "start_time": "09:00", "end_time": "10:00", "lesson_minutes": 60,
                             "effective_from": far}), (422,))
    assert_refused(api(client, world, "GET", f"/api/instructors/{teacher}/slots?start={far}&end={far}"), (422,))
    assert snapshot() == before


@pytest.mark.parametrize("far", FAR_DATES)
def test_the_schedule_forms_refuse_far_dates_with_a_sentence(client, auth, world, far):
    auth.login(world["teacher"])
    before = snapshot()
    window = client.post("/schedule/windows", data={
        "instructor": world["teacher"].id, "view": "week", "occurs_on": far, "start_time": "09:00",
        "end_time": "10:00", "lesson_minutes": "60", "repeat": "weekly"})
    block = client.post("/schedule/blocks", data={
        "instructor": world["teacher"].id, "view": "week", "start_on": far, "end_on": far,
        "start_time": "", "end_time": "", "reason": ""})
    edit = client.post(f"/schedule/windows/weekly/{world['weekly'].id}", data={
        "weekday": "1", "start_time": "09:00", "end_time": "17:00", "lesson_minutes": "60",
        "effective_from": far, "effective_until": ""})
    edit_once = client.post(f"/schedule/windows/one-time/{world['one_time'].id}", data={
        "occurs_on": far, "start_time": "09:00", "end_time": "12:00", "lesson_minutes": "60"})
    for response in (window, block, edit, edit_once):
        assert response.status_code in (200, 422), response.status_code
        assert "a year back to five years ahead" in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_stored_date_sent_back_unchanged_always_passes(client, auth, world):
    old = TODAY - timedelta(days=800)
    world["weekly"].effective_from = old
    db.session.commit()
    auth.login(world["teacher"])
    response = client.post(f"/schedule/windows/weekly/{world['weekly'].id}", data={
        "weekday": str(world["weekly"].weekday), "start_time": "10:00", "end_time": "17:00", "lesson_minutes": "60",
        "effective_from": old.isoformat(), "effective_until": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert (db.session.get(WeeklyWindow, world["weekly"].id).start_time, world["weekly"].effective_from) == (time(10), old)
    moved = client.post(f"/schedule/windows/weekly/{world['weekly'].id}", data={
        "weekday": str(world["weekly"].weekday), "start_time": "10:00", "end_time": "17:00", "lesson_minutes": "60",
        "effective_from": (old - timedelta(days=1)).isoformat(), "effective_until": ""})
    assert "a year back to five years ahead" in moved.get_data(as_text=True)


def test_the_service_refuses_far_dates_for_any_caller(app, world):
    from booking_app.services import ServiceError
    from booking_app.services import availability as service

    with pytest.raises(ServiceError) as refused:
        service.add_block(world["teacher"], world["teacher"].id, start_on=date(9999, 12, 30), end_on=date(9999, 12, 31))
    assert (refused.value.status, refused.value.field) == (422, "start_on")
    with pytest.raises(ServiceError):
        service.add_one_time_window(world["teacher"], world["teacher"].id, occurs_on=date(1, 1, 1),
                                    start_time=time(9), end_time=time(10), lesson_minutes=60)


def test_far_rows_already_stored_break_no_page(client, auth, world):
    teacher = world["teacher"]
    db.session.add_all([
        Block(instructor_id=teacher.id, start_on=date(9999, 12, 30), end_on=date(9999, 12, 31), reason="far"),
        Block(instructor_id=teacher.id, start_on=date(1, 1, 1), end_on=date(1, 1, 2), reason="old"),
        OneTimeWindow(instructor_id=teacher.id, occurs_on=date(9999, 12, 31), start_time=time(9), end_time=time(10),
                      lesson_minutes=60),
        WeeklyWindow(instructor_id=teacher.id, weekday=2, start_time=time(18), end_time=time(19), lesson_minutes=60,
                     effective_from=date(1, 1, 1), effective_until=date(9999, 12, 31)),
    ])
    db.session.commit()
    assert client.get("/book").status_code == 200
    assert client.get(f"/book/{teacher.id}").status_code == 200
    slots = client.get(f"/api/instructors/{teacher.id}/slots?start=2027-03-02&end=2027-03-02")
    assert slots.status_code == 200
    assert "2027-03-02T23:00:00Z" in {s["start"] for s in slots.get_json()["slots"]}  # 18:00 New York
    assert api(client, world, "PATCH", f"/api/instructors/{teacher.id}/settings",
               json={"buffer_minutes": 5}).status_code == 200
    auth.login(teacher)
    assert client.get("/schedule?date=9999-12-31").status_code == 200
    assert client.get("/schedule?view=month&date=0001-01-01").status_code == 200


def test_history_filters_take_1970_to_2100(client, auth, world):
    auth.login(world["owner"])  # signing in writes its session row: do it before the snapshot
    before = snapshot()
    for far in ("0001-01-01", "9999-12-31", "2101-01-01"):
        assert_refused(api(client, world, "GET", f"/api/bookings?from={far}", role="owner"), (422,))
        assert_refused(api(client, world, "GET", f"/api/bookings?to={far}T00:00:00Z", role="owner"), (422,))
    assert api(client, world, "GET", "/api/bookings?from=1970-01-01&to=2100-12-31", role="owner").status_code == 200
    for far in ("0001-01-01", "9999-12-31"):
        page = client.get(f"/dashboard/studio?from={far}&to={far}")
        assert page.status_code == 200 and "between 1970 and 2100" in page.get_data(as_text=True)
        assert client.get(f"/dashboard/studio.csv?from={far}&to={far}").status_code == 200
    assert snapshot() == before


# --- 2. integers ----------------------------------------------------------------------------------------


def test_every_path_id_beyond_the_column_range_answers_404(client, app, world):
    """Derived from app.url_map: every route with an <int:…> part, every method."""
    rules = [r for r in app.url_map.iter_rules()
             if any(isinstance(c, IntegerConverter) for c in r._converters.values())]
    assert len(rules) >= 15
    before = snapshot()
    for rule in rules:
        path = rule.rule
        for name, converter in rule._converters.items():
            value = 2**31 if isinstance(converter, IntegerConverter) else {"kind": "weekly", "action": "confirm"}[name]
            path = re.sub(rf"<[^>]*:?{name}>", str(value), path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = api(client, world, method, path, role="owner")
            assert response.status_code == 404, (method, path, response.status_code)
    assert snapshot() == before


@pytest.mark.parametrize("huge", HUGE)
def test_huge_numbers_in_json_bodies_and_queries_are_refused_naming_the_field(client, world, huge):
    before = snapshot()
    start = "2027-03-04T15:00:00Z"
    for body, name in [({"instructor_id": huge, "start": start}, "instructor id"),
                       ({"instructor_id": world["teacher"].id, "start": start, "lesson_minutes": huge}, "lesson minutes")]:
        response = api(client, world, "POST", "/api/bookings", role="student", json=body)
        assert_refused(response, (422,))
        assert name in response.get_json()["error"]["message"]
    for query in (f"offset={huge}", f"limit={huge}"):
        assert_refused(api(client, world, "GET", f"/api/bookings?{query}", role="owner"), (422,))
    assert snapshot() == before


@pytest.mark.parametrize("raw", ["1e20", str(2**31), str(2**63), "-5", str(10**30)])
def test_html_pages_clamp_page_numbers_and_ids_in_the_query(client, auth, world, raw):
    auth.login(world["owner"])
    for path in (f"/dashboard?page={raw}", f"/dashboard?upcoming={raw}", f"/bookings?page={raw}",
                 f"/dashboard/studio?page={raw}", f"/dashboard/studio?instructor={raw}", f"/book?reschedule={raw}",
                 f"/book?length={raw}", f"/schedule?instructor={raw}"):
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
    auth.login(world["student"])
    for path in (f"/dashboard?page={raw}", f"/dashboard?upcoming={raw}"):
        assert client.get(path).status_code == 200, path


def test_huge_hidden_ids_in_html_forms_are_refused(client, auth, world):
    auth.login(world["student"])
    before = snapshot()
    big = str(2**63)
    response = client.post(f"/book/confirm?instructor={world['teacher'].id}&start=2027-03-04T15:00:00Z"
                           f"&reschedule={big}&length={big}", data={"instructor": world["teacher"].id,
                                                                   "start": "2027-03-04T15:00:00Z",
                                                                   "reschedule": big, "length": big, "notes": ""})
    assert response.status_code in (200, 302, 404, 409, 422)
    assert client.post(f"/bookings/{world['booking'].id}/banner/dismiss", data={"message_id": big}).status_code == 302
    assert snapshot() == before


# --- 3. text --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD_TEXT, ids=["nul", "surrogate"])
def test_bad_text_in_json_bodies_is_refused_naming_the_field(client, world, bad):
    before = snapshot()
    booking = world["booking"].id
    cases = [
        ("student", "POST", "/api/bookings", {"instructor_id": world["teacher"].id, "start": "2027-03-04T15:00:00Z",
                                              "notes": bad}, "notes"),
        ("student", "POST", f"/api/bookings/{booking}/messages", {"body": bad}, "body"),
        ("student", "POST", f"/api/bookings/{booking}/cancel", {"reason": bad}, "reason"),
        ("instructor", "POST", f"/api/bookings/{booking}/decline", {"reason": bad}, "reason"),
        ("instructor", "POST", f"/api/instructors/{world['teacher'].id}/blocks",
         {"start_date": "2027-03-10", "reason": bad}, "reason"),
    ]
    for role, method, path, body, name in cases:
        response = api(client, world, method, path, role=role, json=body)
        assert_refused(response, (422,))
        assert name in response.get_json()["error"]["message"], response.get_json()
    assert snapshot() == before


def html_forms(world) -> list[tuple[str, str, dict[str, str], list[str]]]:
    """Every HTML form that takes text: (who, path, good data, text fields)."""
    teacher, booking = world["teacher"].id, world["booking"].id
    return [
        ("anonymous", "/signup", {"name": "New Person", "email": "new@example.test", "password": "long enough pw",
                                  "timezone": "UTC"}, ["name", "email", "password"]),
        ("anonymous", "/login", {"email": "student3@example.test", "password": "x"}, ["email", "password"]),
        ("student", "/profile", {"name": "Sam", "timezone": "UTC"}, ["name"]),
        ("anonymous", "/password/forgot", {"email": "student3@example.test"}, ["email"]),
        ("student", "/profile/password", {"current_password": "correct horse battery", "password": "long enough pw",
                                          "confirm": "long enough pw"}, ["current_password", "password", "confirm"]),
        ("student", "/profile/address", {"email": "moved@example.test", "password": "correct horse battery"},
         ["email", "password"]),
        ("owner", "/admin/users", {"name": "New", "email": "n@example.test", "password": "long enough pw",
                                   "role": "student", "timezone": "UTC"}, ["name", "email", "password"]),
        ("owner", "/admin/studio", {"name": "Studio", "horizon": "end_of_month", "pending_expiry_hours": "48",
                                    "cancellation_window_hours": "24"}, ["name"]),
        ("instructor", "/schedule/blocks", {"instructor": str(teacher), "view": "week", "start_on": "2027-03-10",
                                            "end_on": "", "start_time": "", "end_time": "", "reason": "x"}, ["reason"]),
        ("student", f"/book/confirm?instructor={teacher}&start=2027-03-04T15:00:00Z",
         {"instructor": str(teacher), "start": "2027-03-04T15:00:00Z", "notes": "x"}, ["notes"]),
        ("student", f"/bookings/{booking}/cancel", {"reason": "x"}, ["reason"]),
        ("instructor", f"/bookings/{booking}/decline", {"reason": "x"}, ["reason"]),
        ("student", f"/bookings/{booking}/messages", {"body": "x"}, ["body"]),
    ]


def test_a_nul_byte_in_any_html_text_field_is_refused_and_saves_nothing(client, auth, world):
    checked = 0
    for who, path, data, names in html_forms(world):
        for name in names:
            auth.logout()
            if who != "anonymous":
                auth.login(world["teacher" if who == "instructor" else who])
            before = snapshot()
            response = client.post(path, data={**data, name: "a\x00b" + data[name]})
            assert response.status_code in (200, 302, 422), (path, name, response.status_code)
            if response.status_code == 302:  # refusals shown as a flash on the next page
                response = client.get(response.location)
            assert "invisible" in response.get_data(as_text=True), (path, name)
            assert snapshot() == before, (path, name)
            checked += 1
    assert checked >= 15


# --- size and depth -------------------------------------------------------------------------------------


def json_operations(client) -> list[tuple[str, str]]:
    """Return (method, path template) of every API operation that takes a JSON body, from the OpenAPI document."""
    spec = client.get("/api/openapi.json").get_json()
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put", "patch") and "requestBody" in operation:
                found.append((method.upper(), path))
    return found


def fill(path: str, world) -> str:
    values = {"instructor_id": world["teacher"].id, "booking_id": world["booking"].id,
              "window_id": world["weekly"].id, "block_id": world["block"].id,
              "student_id": world["booking"].student_id, "series_id": world["series"].id}
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return path


def test_every_json_endpoint_refuses_oversize_and_deep_bodies(client, world):
    operations = json_operations(client)
    assert len(operations) >= 8
    before = snapshot()
    for method, template in operations:
        path = fill(template, world)
        deep = api(client, world, method, path, role="owner", data=DEEP, content_type="application/json")
        assert_refused(deep, (400,))
        assert "levels deep" in deep.get_json()["error"]["message"]
        big = api(client, world, method, path, role="owner", data=OVERSIZE, content_type="application/json")
        assert_refused(big, (413,))
        digits = api(client, world, method, path, role="owner", data=b'{"x": ' + b"9" * 5000 + b"}",
                     content_type="application/json")
        assert_refused(digits, (400,))
    assert snapshot() == before


def test_every_json_endpoint_refuses_bad_values_in_each_field_of_its_schema(client, world):
    """Derived from the OpenAPI document: each integer gets 2^31, each string NUL and a surrogate, each date 9999."""
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]

    def resolve(schema):
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    checked = 0
    before = snapshot()
    for method, template in json_operations(client):
        operation = spec["paths"][template][method.lower()]
        body_schema = resolve(operation["requestBody"]["content"]["application/json"]["schema"])
        for name, prop in body_schema.get("properties", {}).items():
            prop = resolve(prop)
            if prop.get("readOnly"):
                continue
            bad_values = {"integer": [2**31, 2**63, 10**20], "string": BAD_TEXT}.get(prop.get("type"), [])
            if prop.get("format") == "date":
                bad_values = ["9999-12-31", "0001-01-01"]
            elif prop.get("format") == "date-time":
                bad_values = ["9999-12-31T23:00:00Z", "0001-01-01T00:00:00Z"]
            for bad in bad_values:
                response = api(client, world, method, fill(template, world), role="owner", json={name: bad})
                assert_refused(response, (422,))
                checked += 1
    assert checked >= 25
    for template in [p for p, item in spec["paths"].items() if "get" in item]:
        for param in spec["paths"][template]["get"].get("parameters", []):
            if param["in"] != "query":
                continue
            schema = resolve(param.get("schema", {}))
            bad = {"integer": str(2**31)}.get(schema.get("type"))
            if schema.get("format") == "date":
                bad = "9999-12-31"
            if bad is None:
                continue
            query = f"{param['name']}={bad}" + ("&start=2027-03-02&end=2027-03-02" if "slots" in template else "")
            response = api(client, world, "GET", fill(template, world) + "?" + query, role="owner")
            assert_refused(response, (422,))
            checked += 1
    assert snapshot() == before


def test_an_oversize_html_form_answers_413_with_a_sentence(client, auth, world):
    auth.login(world["student"])
    before = snapshot()
    response = client.post(f"/bookings/{world['booking'].id}/messages",
                           data={"body": "x" * (bounds.MAX_BODY_BYTES + 10)})
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)
    assert snapshot() == before


def test_the_bounds_module_speaks_in_sentences():
    assert bounds.text_problem("fine") is None
    assert "invisible" in (bounds.text_problem("\x00", "name") or "")
    assert bounds.json_depth(b'{"a": "[[[[", "b": [[1]]}') == 3
    assert bounds.rule_window(date(2028, 2, 29)) == (date(2027, 2, 28), date(2033, 2, 28))
    assert bounds.clip_span(None, date(9999, 12, 31), date(2026, 1, 1), date(2031, 1, 1)) == (date(2026, 1, 1), date(2031, 1, 1))
    assert bounds.clip_span(date(1, 1, 1), date(1, 1, 2), date(2026, 1, 1), date(2031, 1, 1)) is None
