"""Personal booking links: an instructor makes one per student, renews it (the old one dies at once), sees its last use."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking_app import wording
from booking_app.domain.links import LinkPurpose
from booking_app.extensions import db
from booking_app.models import AccessLink
from booking_app.services import bookings as booking_service
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import count

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW, RATELIMIT_ENABLED=False)


@pytest.fixture
def people(app, users):
    """An instructor with open hours, a student who booked with them, and one who never did."""
    teacher = users.make("instructor", name="Maria Alvarez", timezone="America/New_York")
    student = users.make("student", name="Sam Lee", timezone="Europe/Berlin")
    stranger = users.make("student", name="Nora New")
    open_hours(teacher)
    booking_service.request_booking(student, teacher.id, at(10, 15), None, "")
    return {"teacher": teacher, "student": student, "stranger": stranger}


def _link_on_page(html: str, student_id: int) -> str | None:
    found = re.search(rf'id="link-{student_id}" type="text" readonly value="([^"]+)"', html)
    return found.group(1) if found else None


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_the_instructor_lists_their_students_and_makes_a_link_to_copy(client, auth, people):
    auth.login(people["teacher"])
    page = client.get("/booking-links").get_data(as_text=True)
    assert "Sam Lee" in page and "Nora New" not in page and "No link yet." in page
    response = client.post(f"/booking-links/{people['student'].id}")
    assert response.status_code == 302
    page = client.get("/booking-links").get_data(as_text=True)
    url = _link_on_page(page, people["student"].id)
    assert url and "/with/" in url
    assert "Last used: <span class=\"last-used\">Never</span>" in page
    # Shown again on every visit, the same link.
    assert _link_on_page(client.get("/booking-links").get_data(as_text=True), people["student"].id) == url


def test_the_link_opens_the_book_page_and_its_use_is_shown_in_the_viewers_zone(app, client, auth, people):
    auth.login(people["teacher"])
    client.post(f"/booking-links/{people['student'].id}")
    path = _path(_link_on_page(client.get("/booking-links").get_data(as_text=True), people["student"].id))
    auth.logout()
    # Signed out: sign in first, and nothing is noted yet.
    response = client.get(path)
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    assert db.session.scalar(sa.select(AccessLink.last_used_at)) is None
    auth.login(people["student"])
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=1)
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/book/{people['teacher'].id}")
    db.session.expire_all()
    assert db.session.scalar(sa.select(AccessLink.last_used_at)) == NOW + timedelta(hours=1)
    auth.logout()
    auth.login(people["teacher"])
    page = client.get("/booking-links").get_data(as_text=True)
    assert "Last used: <span class=\"last-used\">Mon 2 Feb 2026, 4:00 AM</span>" in page  # 09:00 UTC in New York


def test_renewing_kills_the_old_link_at_once(client, auth, people):
    auth.login(people["teacher"])
    student_id = people["student"].id
    client.post(f"/booking-links/{student_id}")
    old = _path(_link_on_page(client.get("/booking-links").get_data(as_text=True), student_id))
    client.post(f"/booking-links/{student_id}")
    new = _path(_link_on_page(client.get("/booking-links").get_data(as_text=True), student_id))
    assert new != old
    gone = client.get(old)
    assert gone.status_code == 410
    assert "This link was withdrawn." in gone.get_data(as_text=True)
    assert client.get(new).status_code == 302
    assert count(AccessLink, AccessLink.purpose == LinkPurpose.BOOKING_PAGE, AccessLink.revoked_at.is_(None)) == 1


def test_withdrawing_a_link_stops_it(client, auth, people):
    auth.login(people["teacher"])
    student_id = people["student"].id
    client.post(f"/booking-links/{student_id}")
    path = _path(_link_on_page(client.get("/booking-links").get_data(as_text=True), student_id))
    client.post(f"/booking-links/{student_id}/revoke")
    assert client.get(path).status_code == 410
    response = client.post(f"/booking-links/{student_id}/revoke", follow_redirects=True)
    assert wording.BOOKING_LINK_NONE.format(name="Sam Lee") in response.get_data(as_text=True)


def test_any_active_student_can_be_added_by_email_and_strangers_by_id_are_refused(client, auth, people):
    auth.login(people["teacher"])
    stranger = people["stranger"]
    response = client.post(f"/booking-links/{stranger.id}", follow_redirects=True)
    assert wording.BOOKING_LINK_NOT_YOURS in response.get_data(as_text=True)
    assert count(AccessLink) == 0
    unknown = client.post("/booking-links", data={"email": "nobody@example.test"})
    assert unknown.status_code == 422
    assert wording.BOOKING_LINK_UNKNOWN_STUDENT in unknown.get_data(as_text=True)
    assert client.post("/booking-links", data={"email": stranger.email.upper()}).status_code == 302
    page = client.get("/booking-links").get_data(as_text=True)
    assert "Nora New" in page and _link_on_page(page, stranger.id)


def test_a_link_opened_by_someone_else_notes_nothing_and_says_so(client, auth, people):
    auth.login(people["teacher"])
    client.post(f"/booking-links/{people['student'].id}")
    path = _path(_link_on_page(client.get("/booking-links").get_data(as_text=True), people["student"].id))
    auth.logout()
    auth.login(people["stranger"])
    response = client.get(path, follow_redirects=True)
    assert "This personal link was made for Sam Lee." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(AccessLink.last_used_at)) is None


def test_students_cannot_manage_links_and_a_made_up_link_is_gone(client, auth, people):
    auth.login(people["student"])
    assert client.get("/booking-links").status_code == 403
    assert client.post(f"/booking-links/{people['student'].id}").status_code == 403
    assert client.get("/with/made-up-secret").status_code == 410
    assert client.get("/with/" + "x" * 201).status_code == 404
