"""Every route and method × six actors answers as the table says, and a refused request writes nothing.

The table is keyed by the app's own url_map: a route added without an entry here fails the suite.
The world is built once per module: student A has a pending and a confirmed lesson with instructor A (with a
message thread and a notification); student B has a lesson with instructor B. Path parameters are A's objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, request_started
from flask.testing import FlaskClient

from booking_app.extensions import db
from booking_app.models import User
from tests.booking_helpers import NOW
from tests.conftest import Users, _make_app, fresh_globals, release_app, sign_in_cookie
from tests.matrix_world import build_world, restore_rows

ACTORS = ("anonymous", "student_a", "student_b", "instructor_a", "instructor_b", "owner")

# Outcome classes. Every class but OK promises that nothing was written.
OK = "ok"  # 2xx, or a 3xx that is not the sign-in page; may write
NOOP = "noop"  # 2xx/3xx that refuses in words (a flash), nothing written
LOGIN = "login"  # 302 to the sign-in page
E401, E403, E404 = "401", "403", "404"
SKIPPED_ENDPOINTS = ("static", "bootstrap.static")  # files on disk, no authorization involved


def row(text: str) -> dict[str, str]:
    """Read "anon student_a student_b instructor_a instructor_b owner" outcomes."""
    outcomes = text.split()
    assert len(outcomes) == len(ACTORS), text
    return dict(zip(ACTORS, outcomes, strict=True))


@dataclass
class Case:
    expect: dict[str, str]
    path: dict[str, str] = field(default_factory=dict)  # path parameters other than the defaults
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, Any] | None = None
    json: dict[str, Any] | None = None


# Names like {booking}, {instructor_a} in path/query/form/json strings are filled from the world;
# "#instructor_a" stands for the id as a JSON integer.
PUBLIC = row("ok ok ok ok ok ok")
SIGNED_IN = row("login ok ok ok ok ok")
API_SIGNED_IN = row("401 ok ok ok ok ok")
OWNER_ONLY = row("login 403 403 403 403 ok")
API_OWNER_ONLY = row("401 403 403 403 403 ok")
# A's booking, thread or notification: the parties and the owner; anyone else gets 404.
A_BOOKING = row("login ok 404 ok 404 ok")
API_A_BOOKING = row("401 ok 404 ok 404 ok")
A_INSTRUCTOR = row("login 403 403 ok 403 ok")  # instructor A's schedule: instructor A and the owner
API_A_INSTRUCTOR = row("401 403 403 ok 403 ok")
GONE = row("410 410 410 410 410 410")  # a mailed link that does not work, whoever opens it
STAFF_ACT = row("login noop 404 ok 404 ok")  # the student is refused in words, B's people do not see it

TOMORROW = (NOW + timedelta(days=1)).date().isoformat()
NEXT_WEEK = (NOW + timedelta(days=7)).date().isoformat()
OPEN_SLOT = "2026-02-12T10:00:00Z"  # free in instructor A's open hours

EXPECTED: dict[tuple[str, str], list[Case]] = {
    ("/", "GET"): [Case(PUBLIC)],
    ("/healthz", "GET"): [Case(PUBLIC)],
    # --- the owner's pages
    ("/admin/studio", "GET"): [Case(OWNER_ONLY)],
    ("/admin/studio", "POST"): [Case(OWNER_ONLY, form={
        "name": "Renamed Studio", "horizon": "end_of_month", "horizon_days": "", "pending_expiry_hours": "4",
        "cancellation_window_hours": "24"})],
    ("/admin/users", "GET"): [Case(OWNER_ONLY)],
    ("/admin/users", "POST"): [Case(OWNER_ONLY, form={
        "name": "Nina New", "email": "nina@example.test", "password": "a-good-password", "role": "instructor",
        "timezone": "UTC"})],
    ("/admin/users/<int:user_id>/active", "POST"): [Case(OWNER_ONLY, form={"active": "0"})],
    ("/admin/users/<int:user_id>/role", "POST"): [Case(OWNER_ONLY, form={"role": "instructor"})],
    ("/admin/audit", "GET"): [Case(OWNER_ONLY, query={"person": "{user}"})],
    ("/admin/audit.csv", "GET"): [Case(OWNER_ONLY, query={"from": "2026-01-01", "to": "2026-12-31"})],
    # --- the JSON API
    ("/api/bookings", "GET"): [Case(API_SIGNED_IN)],
    ("/api/bookings", "POST"): [
        # instructors and the owner may take lessons too, only not with themselves
        Case(row("401 ok ok 422 ok ok"), json={"instructor_id": "#instructor_a", "start": OPEN_SLOT}),
        # staff booking student A in: instructor A (own lessons) and the owner
        Case(row("401 403 403 ok 403 ok"),
             json={"instructor_id": "#instructor_a", "start": OPEN_SLOT, "student_id": "#user"}),
    ],
    ("/api/bookings/<int:booking_id>", "GET"): [Case(API_A_BOOKING)],
    ("/api/bookings/<int:booking_id>/cancel", "POST"): [Case(API_A_BOOKING, json={"reason": "Ill"})],
    ("/api/bookings/<int:booking_id>/confirm", "POST"): [
        Case(row("401 403 404 ok 404 ok"), path={"booking_id": "{pending}"}),
    ],
    ("/api/bookings/<int:booking_id>/decline", "POST"): [
        Case(row("401 403 404 ok 404 ok"), path={"booking_id": "{pending}"}, json={"reason": "Away"}),
    ],
    ("/api/bookings/<int:booking_id>/messages", "GET"): [Case(API_A_BOOKING)],
    ("/api/bookings/<int:booking_id>/messages", "POST"): [Case(API_A_BOOKING, json={"body": "Hello there"})],
    ("/api/bookings/<int:booking_id>/messages/read", "POST"): [Case(API_A_BOOKING, json={})],
    ("/api/bookings/unread", "GET"): [Case(API_SIGNED_IN)],
    # --- weekly series (A's pending series is {series}; {series_booked} was booked in by instructor A)
    ("/api/series", "POST"): [
        Case(row("401 ok ok 422 ok ok"), json={"instructor_id": "#instructor_a", "start": "2026-02-12T12:00:00Z",
                                                "lesson_minutes": 60, "weeks": 2}),
    ],
    ("/api/series/<int:series_id>", "GET"): [Case(API_A_BOOKING)],
    ("/api/series/<int:series_id>/confirm", "POST"): [Case(row("401 403 404 ok 404 ok"), json={})],
    ("/api/series/<int:series_id>/decline", "POST"): [Case(row("401 403 404 ok 404 ok"), json={"reason": "Away"})],
    ("/api/series/<int:series_id>/cancel", "POST"): [Case(API_A_BOOKING, json={})],
    ("/api/series/<int:series_id>/renew", "POST"): [
        Case(API_A_BOOKING, path={"series_id": "{series_booked}"}, json={"weeks": 2}),
    ],
    ("/api/events", "GET"): [Case(PUBLIC, query={"calendar": "{instructor_a}"})],
    ("/api/instructors", "GET"): [Case(PUBLIC)],
    ("/api/instructors/<int:instructor_id>", "GET"): [Case(PUBLIC)],
    ("/api/instructors/<int:instructor_id>/availability", "GET"): [Case(PUBLIC)],
    ("/api/instructors/<int:instructor_id>/availability/one-time", "POST"): [Case(API_A_INSTRUCTOR, json={
        "date": NEXT_WEEK, "start_time": "18:00", "end_time": "19:00", "lesson_minutes": 60})],
    ("/api/instructors/<int:instructor_id>/availability/one-time/<int:window_id>", "DELETE"): [
        Case(API_A_INSTRUCTOR, path={"window_id": "{one_time}"}),
    ],
    ("/api/instructors/<int:instructor_id>/availability/weekly", "POST"): [Case(API_A_INSTRUCTOR, json={
        "weekday": 1, "start_time": "18:00", "end_time": "19:00", "lesson_minutes": 60})],
    ("/api/instructors/<int:instructor_id>/availability/weekly/<int:window_id>", "DELETE"): [
        Case(API_A_INSTRUCTOR, path={"window_id": "{weekly}"}),
    ],
    ("/api/instructors/<int:instructor_id>/blocks", "POST"): [Case(API_A_INSTRUCTOR, json={
        "start_date": NEXT_WEEK, "end_date": NEXT_WEEK, "reason": "Away"})],
    ("/api/instructors/<int:instructor_id>/blocks/<int:block_id>", "DELETE"): [Case(API_A_INSTRUCTOR)],
    ("/api/instructors/<int:instructor_id>/settings", "GET"): [Case(API_A_INSTRUCTOR)],
    ("/api/instructors/<int:instructor_id>/settings", "PATCH"): [Case(API_A_INSTRUCTOR, json={"buffer_minutes": 15})],
    ("/api/instructors/<int:instructor_id>/slots", "GET"): [
        Case(PUBLIC, query={"start": TOMORROW, "end": NEXT_WEEK}),
    ],
    ("/api/me", "GET"): [Case(API_SIGNED_IN)],
    # Anyone signed in, for themselves only; the studio's only owner is refused until someone else is owner.
    ("/api/me/delete", "POST"): [Case(row("401 ok ok ok ok 409"), json={"password": Users.password})],
    ("/api/me/export", "GET"): [Case(API_SIGNED_IN)],
    ("/api/openapi.json", "GET"): [Case(PUBLIC)],
    ("/api/studio", "GET"): [Case(API_SIGNED_IN)],
    ("/api/studio", "PATCH"): [Case(API_OWNER_ONLY, json={"cancellation_window_hours": 12})],
    # --- action links from mails: the signed token is the credential, whoever is signed in (or nobody)
    ("/act/<any(accept, decline, cancel):action>/<string(maxlength=400):token>", "GET"): [
        Case(PUBLIC, path={"action": "accept", "token": "{act_accept}"}),
        Case(PUBLIC, path={"action": "cancel", "token": "{act_cancel}"}),
    ],
    ("/act/<any(accept, decline, cancel):action>/<string(maxlength=400):token>", "POST"): [
        Case(PUBLIC, path={"action": "accept", "token": "{act_accept}"}),
        Case(PUBLIC, path={"action": "decline", "token": "{act_decline}"}, form={"reason": "Away"}),
        Case(PUBLIC, path={"action": "cancel", "token": "{act_cancel}"}),
        # a token for another action is gone for everyone, and does nothing
        Case(row("410 410 410 410 410 410"), path={"action": "decline", "token": "{act_accept}"}),
    ],
    ("/act/reschedule/<string(maxlength=400):token>", "GET"): [Case(PUBLIC, path={"token": "{act_reschedule}"})],
    ("/act/reschedule/<string(maxlength=400):token>", "POST"): [
        Case(PUBLIC, path={"token": "{act_reschedule}"}, form={"start": OPEN_SLOT}),
    ],
    # --- personal booking links: instructors manage their own; the link itself signs nobody in
    ("/booking-links", "GET"): [Case(row("login 403 403 ok ok ok"))],
    ("/booking-links", "POST"): [Case(row("login 403 403 ok ok ok"), form={"email": "{student_a_email}"})],
    # student A booked with instructor A only: others are refused in words
    ("/booking-links/<int:student_id>", "POST"): [Case(row("login 403 403 ok noop noop"))],
    ("/booking-links/<int:student_id>/revoke", "POST"): [Case(row("login 403 403 ok noop noop"))],
    ("/with/<string(maxlength=200):token>", "GET"): [Case(SIGNED_IN, path={"token": "{share}"})],
    # --- booking pages
    ("/book", "GET"): [Case(PUBLIC)],
    ("/book/<int:instructor_id>", "GET"): [Case(PUBLIC)],
    ("/book/confirm", "GET"): [Case(SIGNED_IN, query={"instructor": "{instructor_a}", "start": OPEN_SLOT})],
    ("/book/confirm", "POST"): [Case(SIGNED_IN, query={"instructor": "{instructor_a}", "start": OPEN_SLOT},
                                     form={"instructor": "{instructor_a}", "start": OPEN_SLOT, "notes": ""})],
    ("/bookings", "GET"): [Case(SIGNED_IN)],
    # --- weekly series pages (A's pending series is {series}; {series_booked} was booked in by instructor A)
    ("/series/new", "POST"): [Case(SIGNED_IN, form={"instructor": "{instructor_a}", "start": "2026-02-12T12:00:00Z",
                                                    "weeks": "2", "notes": ""})],
    ("/series/<int:series_id>", "GET"): [Case(A_BOOKING)],
    ("/series/<int:series_id>/answer", "POST"): [Case(STAFF_ACT, form={"decision": "accept"})],
    ("/series/<int:series_id>/cancel", "POST"): [Case(A_BOOKING, form={"reason": "Moving away"})],
    ("/series/<int:series_id>/renew", "POST"): [Case(A_BOOKING, path={"series_id": "{series_booked}"},
                                                      form={"weeks": "2"})],
    ("/bookings/<int:booking_id>", "GET"): [Case(A_BOOKING)],
    ("/bookings/<int:booking_id>.ics", "GET"): [Case(A_BOOKING)],
    ("/bookings/<int:booking_id>/<any(confirm, decline, cancel, no_show):action>", "POST"): [
        Case(STAFF_ACT, path={"booking_id": "{pending}", "action": "confirm"}),
        Case(STAFF_ACT, path={"booking_id": "{pending}", "action": "decline"}, form={"reason": "Away"}),
        Case(A_BOOKING, path={"action": "cancel"}, form={"reason": "Ill"}),
        Case(A_BOOKING, path={"booking_id": "{pending}", "action": "cancel"}),
        # the lesson has not started: nobody may mark it a no-show yet, B's people do not even see it
        Case(row("login noop 404 noop 404 noop"), path={"action": "no_show"}),
    ],
    ("/bookings/<int:booking_id>/banner/dismiss", "POST"): [Case(A_BOOKING, form={"message_id": "{message}"})],
    ("/bookings/<int:booking_id>/messages", "GET"): [Case(A_BOOKING)],
    ("/bookings/<int:booking_id>/messages", "POST"): [Case(A_BOOKING, form={"body": "Hello there"})],
    ("/bookings/<int:booking_id>/messages/read", "POST"): [Case(A_BOOKING)],
    ("/bookings/<int:booking_id>/move", "POST"): [Case(STAFF_ACT, form={"on": "2026-02-13", "at": "11:00"})],
    ("/bookings/<int:booking_id>/reschedule", "GET"): [Case(A_BOOKING)],
    ("/calendar/<token>.ics", "GET"): [Case(PUBLIC)],  # the private address is the credential
    # --- dashboards and notifications
    ("/dashboard", "GET"): [Case(SIGNED_IN)],
    ("/dashboard/studio", "GET"): [Case(OWNER_ONLY)],
    ("/dashboard/studio.csv", "GET"): [Case(OWNER_ONLY)],
    ("/events", "GET"): [Case(PUBLIC, query={"calendar": "{instructor_a}"})],
    ("/messages/banner", "GET"): [Case(SIGNED_IN)],
    ("/notifications", "GET"): [Case(SIGNED_IN)],
    ("/notifications/<int:notification_id>/open", "POST"): [Case(row("login ok 404 404 404 404"))],
    ("/notifications/count", "GET"): [Case(SIGNED_IN)],
    ("/notifications/read", "POST"): [Case(SIGNED_IN)],
    # --- accounts
    ("/login", "GET"): [Case(PUBLIC)],
    ("/login", "POST"): [Case(PUBLIC, form={"email": "{student_a_email}", "password": Users.password})],
    ("/logout", "POST"): [Case(PUBLIC)],
    ("/profile", "GET"): [Case(SIGNED_IN)],
    ("/profile", "POST"): [Case(SIGNED_IN, form={"name": "New Name", "timezone": "Europe/Berlin"})],
    ("/profile/delete", "GET"): [Case(SIGNED_IN)],
    ("/profile/delete", "POST"): [Case(row("login ok ok ok ok noop"),
                                       form={"password": Users.password, "understood": "y"})],
    ("/profile/email", "POST"): [Case(SIGNED_IN, form={"kinds": []})],
    ("/profile/export", "GET"): [Case(SIGNED_IN)],
    ("/profile/feed", "POST"): [Case(SIGNED_IN, form={"action": "revoke"})],
    ("/profile/sessions/end", "POST"): [Case(SIGNED_IN)],
    ("/profile/tokens", "POST"): [Case(SIGNED_IN, form={"name": "Matrix", "expires_in_days": "5"})],
    # Only student A holds this token; anyone else is told it does not exist and nothing changes.
    ("/profile/tokens/<int:token_id>/revoke", "POST"): [Case(row("login ok noop noop noop noop"))],
    # Passwords and the sign-in address; a link that does not work is refused with 410 for everyone.
    ("/password/forgot", "GET"): [Case(PUBLIC)],
    ("/password/forgot", "POST"): [Case(PUBLIC, form={"email": "{student_a_email}"})],
    ("/password/reset/<token>", "GET"): [Case(GONE, path={"token": "not-a-working-link"})],
    ("/password/reset/<token>", "POST"): [Case(GONE, path={"token": "not-a-working-link"},
                                               form={"password": "a-new-password", "confirm": "a-new-password"})],
    ("/profile/password", "GET"): [Case(SIGNED_IN)],
    ("/profile/password", "POST"): [Case(SIGNED_IN, form={
        "current_password": Users.password, "password": "a-new-password", "confirm": "a-new-password"})],
    ("/profile/address", "GET"): [Case(SIGNED_IN)],
    ("/profile/address", "POST"): [Case(SIGNED_IN, form={"email": "moved@example.test", "password": Users.password})],
    ("/address/confirm/<token>", "GET"): [Case(GONE, path={"token": "not-a-working-link"})],
    ("/address/confirm/<token>", "POST"): [Case(GONE, path={"token": "not-a-working-link"})],
    ("/api/password/forgot", "POST"): [Case(PUBLIC, json={"email": "{student_a_email}"})],
    ("/api/password/reset", "POST"): [Case(GONE, json={"token": "not-a-working-link", "password": "a-new-password"})],
    ("/signup", "GET"): [Case(PUBLIC)],
    ("/signup", "POST"): [Case(PUBLIC, form={
        "name": "Neil New", "email": "neil@example.test", "password": "a-good-password", "timezone": "UTC"})],
    # --- invitations (instructor A sent the world's one; the owner manages every invitation)
    ("/api/invitations", "POST"): [Case(row("401 403 403 ok ok ok"), json={
        "email": "nia@example.test", "name": "Nia New", "role": "student"})],
    ("/invitations", "GET"): [Case(row("login 403 403 ok ok ok"))],
    ("/invitations", "POST"): [Case(row("login 403 403 ok ok ok"), form={
        "name": "Nia New", "email": "nia@example.test", "role": "student", "timezone": "UTC"})],
    # no file sent: staff are asked to choose one (422), the rest are refused as everywhere
    ("/invitations/preview", "POST"): [Case(row("login 403 403 422 422 422"))],
    ("/invitations/import", "POST"): [Case(row("login 403 403 ok ok ok"), form={
        "rows": '[[2,"Nia New","nia@example.test","student",""]]'})],
    ("/invitations/<int:invitation_id>/resend", "POST"): [
        Case(row("login 403 403 ok 404 ok"), path={"invitation_id": "{invitation}"}),
    ],
    ("/invitations/<int:invitation_id>/revoke", "POST"): [
        Case(row("login 403 403 ok 404 ok"), path={"invitation_id": "{invitation}"}),
    ],
    # the link is the credential: whoever holds it may accept (the invitee is signed in as the new account)
    ("/invitations/<token>", "GET"): [Case(PUBLIC, path={"token": "{invitation_token}"})],
    ("/invitations/<token>", "POST"): [Case(PUBLIC, path={"token": "{invitation_token}"}, form={
        "name": "Ivy Invited", "password": "a-good-password"})],
    # --- instructor A's schedule (the owner may manage anyone's)
    ("/schedule", "GET"): [Case(A_INSTRUCTOR, query={"instructor": "{instructor_a}"})],
    ("/schedule/blocks", "POST"): [Case(A_INSTRUCTOR, form={
        "instructor": "{instructor_a}", "start_on": NEXT_WEEK, "end_on": NEXT_WEEK, "start_time": "",
        "end_time": "", "reason": "Away"})],
    ("/schedule/blocks/<int:block_id>/delete", "POST"): [Case(A_INSTRUCTOR)],
    ("/schedule/settings", "GET"): [Case(A_INSTRUCTOR, query={"instructor": "{instructor_a}"})],
    ("/schedule/settings", "POST"): [Case(A_INSTRUCTOR, form={
        "instructor": "{instructor_a}", "timezone": "UTC", "default_lesson_minutes": "60", "buffer_minutes": "15",
        "min_notice_hours": "2"})],
    ("/schedule/windows", "POST"): [Case(A_INSTRUCTOR, form={
        "instructor": "{instructor_a}", "occurs_on": NEXT_WEEK, "start_time": "18:00", "end_time": "19:00",
        "lesson_minutes": "60", "repeat": "once"})],
    ("/schedule/windows/<kind>/<int:window_id>", "GET"): [
        Case(A_INSTRUCTOR, path={"kind": "weekly", "window_id": "{weekly}"}),
        Case(A_INSTRUCTOR, path={"kind": "one-time", "window_id": "{one_time}"}),
    ],
    ("/schedule/windows/<kind>/<int:window_id>", "POST"): [
        Case(A_INSTRUCTOR, path={"kind": "weekly", "window_id": "{weekly}"}, form={
            "weekday": "2", "start_time": "09:00", "end_time": "17:00", "lesson_minutes": "60"}),
        Case(A_INSTRUCTOR, path={"kind": "one-time", "window_id": "{one_time}"}, form={
            "occurs_on": NEXT_WEEK, "start_time": "18:00", "end_time": "20:00", "lesson_minutes": "60"}),
    ],
    # --- staff booking a student into instructor A's time
    ("/schedule/book-student", "GET"): [Case(A_INSTRUCTOR, query={"instructor": "{instructor_a}"})],
    ("/schedule/book-student", "POST"): [Case(A_INSTRUCTOR, form={
        "instructor": "{instructor_a}", "student": "{user}", "on": "2026-02-12", "at": "10:00",
        "lesson_minutes": "0", "notes": ""})],
    ("/schedule/windows/<kind>/<int:window_id>/delete", "POST"): [
        Case(A_INSTRUCTOR, path={"kind": "weekly", "window_id": "{weekly}"}, form={"scope": "all"}),
        Case(A_INSTRUCTOR, path={"kind": "one-time", "window_id": "{one_time}"}, form={"scope": "all"}),
    ],
    # --- each instructor's students and lesson notes ({past} is A's lesson of yesterday, {booking} is ahead)
    ("/students", "GET"): [Case(row("login 403 403 ok ok ok"))],
    ("/students/<int:student_id>", "GET"): [Case(row("login 403 403 ok 404 ok"))],
    ("/students/<int:student_id>/note", "POST"): [
        Case(row("login 403 403 ok 403 ok"), form={"instructor": "{instructor_a}", "note": "Likes Bach", "colour": "teal"}),
    ],
    ("/bookings/<int:booking_id>/lesson-notes", "POST"): [
        Case(row("login noop 404 ok 404 ok"), path={"booking_id": "{past}"}, form={"summary": "Scales", "private_note": "Tired"}),
        Case(row("login noop 404 noop 404 noop"), form={"summary": "Too early"}),
    ],
    ("/api/instructors/<int:instructor_id>/students", "GET"): [Case(row("401 403 403 ok 403 ok"))],
    ("/api/instructors/<int:instructor_id>/students/<int:student_id>", "PUT"): [
        Case(row("401 403 403 ok 403 ok"), json={"note": "Likes Bach", "colour": "teal"}),
    ],
    ("/api/bookings/<int:booking_id>/lesson-notes", "PUT"): [
        Case(row("401 403 404 ok 404 ok"), path={"booking_id": "{past}"}, json={"summary": "Scales", "private_note": "Tired"}),
        Case(row("401 403 404 409 404 409"), json={"summary": "Too early"}),
    ],
}


# --- the world ---------------------------------------------------------------------------------------


@dataclass
class World:
    app: Flask
    names: dict[str, str]  # placeholders for path parameters and bodies
    clients: dict[str, FlaskClient]
    cookies: dict[str, str | None]  # each actor's signed-in session cookie, put back before every request
    csrf: dict[str, str]
    tokens: dict[str, str]
    rows: dict[str, list[dict[str, Any]]]  # the world's rows, put back after a request that wrote


def _tables() -> list[sa.Table]:
    return list(db.metadata.sorted_tables)


def _read_rows() -> dict[str, list[dict[str, Any]]]:
    out = {}
    with db.engine.connect() as conn:
        for table in _tables():
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [dict(r) for r in conn.execute(sa.select(table).order_by(*order)).mappings()]
    return out


def snapshot() -> dict[str, tuple[int, str]]:
    """Return each table's row count and a hash of its rows."""
    return {name: (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
            for name, rows in _read_rows().items()}


def _csrf_token(client: FlaskClient, page: str) -> str:
    html = client.get(page).get_data(as_text=True)
    return html.split('name="csrf-token" content="')[1].split('"')[0]




@pytest.fixture(scope="module")
def world(test_env: dict[str, str]) -> Iterator[World]:
    app = _make_app(test_env, FROZEN_NOW=NOW, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=False)
    request_started.connect(fresh_globals, app)
    with app.app_context():
        built = build_world()
        clients, cookies, csrf = {}, {}, {}
        for actor in ACTORS:
            client = app.test_client()
            if actor != "anonymous":
                sign_in_cookie(client, db.session.get(User, built["ids"][actor]))
            csrf[actor] = _csrf_token(client, "/login" if actor == "anonymous" else "/profile")
            cookie = client.get_cookie("session")
            cookies[actor] = cookie.value if cookie else None
            clients[actor] = client
        db.session.remove()
        yield World(app, built["names"], clients, cookies, csrf, built["tokens"], _read_rows())
        release_app(app)


# --- the checks --------------------------------------------------------------------------------------


def _rules(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in SKIPPED_ENDPOINTS
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("#"):
        return int(names[value[1:]])
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


DEFAULT_PATH = {"booking_id": "{booking}", "instructor_id": "{instructor_a}", "window_id": "{weekly}",
                "block_id": "{block}", "notification_id": "{notification}", "user_id": "{user}", "token": "{token}",
                "token_id": "{token_a}", "student_id": "{user}", "series_id": "{series}"}


def _url(app: Flask, rule_text: str, case: Case, names: dict[str, str]) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.rule == rule_text)
    values = {arg: _fill(case.path.get(arg, DEFAULT_PATH.get(arg, "")), names) for arg in rule.arguments}
    _, path = rule.build(values, append_unknown=False) or ("", "")
    return path


def _outcome(response: Any) -> str:
    status = response.status_code
    location = response.headers.get("Location", "")
    if status == 302 and location.split("?")[0].endswith("/login"):
        return LOGIN
    if 200 <= status < 400:
        return OK
    return str(status)


def _send(world: World, actor: str, method: str, url: str, case: Case) -> Any:
    client = world.clients[actor]
    if world.cookies[actor]:
        client.set_cookie("session", world.cookies[actor])  # type: ignore[arg-type]
    else:
        client.delete_cookie("session")
    headers: dict[str, str] = {}
    kwargs: dict[str, Any] = {"query_string": _fill(case.query, world.names)}
    if url.startswith("/api/"):
        if actor != "anonymous":
            headers["Authorization"] = f"Bearer {world.tokens[actor]}"
        if method not in ("GET", "DELETE") or case.json is not None:
            kwargs["json"] = _fill(case.json or {}, world.names)
    elif method != "GET":
        kwargs["data"] = {**_fill(case.form or {}, world.names), "csrf_token": world.csrf[actor]}
    if url.endswith("/events"):
        response = client.open(url, method=method, headers=headers, buffered=False, **kwargs)
        response.close()  # an endless stream: its answer and headers are what is checked
        return response
    return client.open(url, method=method, headers=headers, **kwargs)


def test_every_route_has_an_entry_in_the_table(world):
    routes = _rules(world.app)
    missing = sorted(routes - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - routes)
    assert not missing, f"routes without an expected outcome per actor: {missing}"
    assert not stale, f"table entries for routes that no longer exist: {stale}"


def test_every_actor_gets_the_expected_answer_and_a_refusal_writes_nothing(world, capsys):
    wrong = []
    wrote = []
    cells = 0
    with world.app.app_context():
        pristine = before = snapshot()
        for (rule_text, method), cases in sorted(EXPECTED.items()):
            for case in cases:
                url = _url(world.app, rule_text, case, world.names)
                for actor in ACTORS:
                    expected = case.expect[actor]
                    response = _send(world, actor, method, url, case)
                    db.session.remove()
                    after = snapshot()
                    got = _outcome(response)
                    if expected == NOOP and got == OK:
                        got = NOOP
                    cells += 1
                    label = f"{method} {url} as {actor}"
                    if got != expected:
                        wrong.append(f"{label}: expected {expected}, got {response.status_code} "
                                     f"{response.headers.get('Location', '')} {response.get_data(as_text=True)[:200]}")
                    if expected != OK and before != after:
                        changed = sorted(name for name in before if before[name] != after[name])
                        wrote.append(f"{label}: wrote to {changed}")
                    if before != after:
                        restore_rows(world.rows)
                        after = pristine
                    before = after
    pairs = len(EXPECTED)
    with capsys.disabled():
        print(f"\nauthorization matrix: {pairs} routes × methods, {sum(map(len, EXPECTED.values()))} cases, "
              f"{len(ACTORS)} actors, {cells} requests checked")
    assert not wrong, "\n".join(wrong)
    assert not wrote, "\n".join(wrote)
