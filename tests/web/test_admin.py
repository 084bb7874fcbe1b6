"""The owner's people and studio pages."""

from __future__ import annotations

import pytest

from booking_app.extensions import db
from booking_app.models import InstructorSettings, StudioSettings, User
from booking_app.services.studio import get_studio
from tests.conftest import count


@pytest.fixture
def owner(users, auth):
    person = users.make("owner", name="Olivia Owner")
    auth.login(person)
    return person


def test_the_owner_lists_everyone(client, owner, users):
    users.make("student", name="Sam Student")
    users.make("instructor", name="Ivy Instructor")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Sam Student" in page and "Ivy Instructor" in page and "Olivia Owner" in page


def test_the_owner_creates_an_instructor_with_settings(client, owner):
    response = client.post("/admin/users", data={
        "name": "Nina New", "email": "nina@example.test", "password": "a-good-password",
        "role": "instructor", "timezone": "America/New_York",
    })
    assert response.status_code == 302
    nina = db.session.scalar(db.select(User).where(User.email == "nina@example.test"))
    assert nina is not None and nina.role == "instructor"
    settings = db.session.get(InstructorSettings, nina.id)
    assert settings is not None and settings.timezone == "America/New_York"
    assert "Nina New can now sign in as instructor." in client.get("/admin/users").get_data(as_text=True)


def test_creating_a_person_with_a_taken_email_says_so(client, owner, users):
    users.make("student", email="taken@example.test")
    response = client.post("/admin/users", data={
        "name": "Dup", "email": "taken@example.test", "password": "a-good-password", "role": "instructor",
        "timezone": "UTC",
    })
    assert response.status_code == 200
    assert "An account with this email already exists" in response.get_data(as_text=True)
    assert count(User, User.email == "taken@example.test") == 1


def test_the_owner_changes_a_role(client, owner, users):
    student = users.make("student")
    client.post(f"/admin/users/{student.id}/role", data={"role": "instructor"})
    db.session.expire_all()
    assert db.session.get(User, student.id).role == "instructor"
    assert db.session.get(InstructorSettings, student.id) is not None


def test_a_deactivated_person_can_no_longer_sign_in(app, owner, users):
    student = users.make("student")
    app.test_client().post(f"/admin/users/{student.id}/active", data={"active": "0"})  # no session: refused
    db.session.expire_all()
    assert db.session.get(User, student.id).active is True

    from flask import current_app

    owner_client = current_app.test_client()
    owner_client.post("/login", data={"email": owner.email, "password": users.password})
    student_client = current_app.test_client()
    student_client.post("/login", data={"email": student.email, "password": users.password})
    assert student_client.get("/profile").status_code == 200

    assert owner_client.post(f"/admin/users/{student.id}/active", data={"active": "0"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, student.id).active is False
    assert student_client.get("/profile").status_code == 302  # the open session is no longer honoured
    response = student_client.post("/login", data={"email": student.email, "password": users.password})
    assert response.status_code == 200
    assert "This account is deactivated" in response.get_data(as_text=True)


def test_the_last_owner_cannot_be_demoted(client, owner):
    response = client.post(f"/admin/users/{owner.id}/role", data={"role": "student"}, follow_redirects=True)
    assert "The studio needs at least one owner" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, owner.id).role == "owner"


def test_the_owner_cannot_deactivate_themselves(client, owner):
    response = client.post(f"/admin/users/{owner.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, owner.id).active is True


def test_the_last_active_owner_cannot_be_deactivated(users, owner):
    other = users.make("owner")
    from booking_app.services import ServiceError
    from booking_app.services.users import set_active

    set_active(owner, False, acting=other)
    with pytest.raises(ServiceError, match="at least one active owner"):
        set_active(other, False, acting=owner)


@pytest.mark.parametrize("role", ["student", "instructor"])
@pytest.mark.parametrize("path", ["/admin/users", "/admin/studio"])
def test_only_the_owner_may_open_admin_pages(client, users, auth, role, path):
    auth.login(users.make(role))
    assert client.get(path).status_code == 403
    assert client.post(path, data={}).status_code == 403


def test_a_visitor_is_sent_to_sign_in(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _studio_form(**changes):
    data = {"name": "Riverside", "horizon": "days", "horizon_days": "30", "pending_expiry_hours": "6",
            "cancellation_window_hours": "12"}
    data.update(changes)
    return data


def test_the_owner_saves_studio_settings(client, owner):
    assert client.post("/admin/studio", data=_studio_form()).status_code == 302
    db.session.expire_all()
    studio = db.session.get(StudioSettings, 1)
    assert (studio.name, studio.horizon, studio.horizon_days, studio.pending_expiry_hours,
            studio.cancellation_window_hours) == ("Riverside", "days", 30, 6, 12)


@pytest.mark.parametrize("changes", [
    {"horizon_days": "0"}, {"horizon_days": "366"}, {"horizon_days": ""},
    {"pending_expiry_hours": "0"}, {"pending_expiry_hours": "500"}, {"cancellation_window_hours": "-1"},
    {"horizon": "forever"},
])
def test_studio_settings_refuse_values_out_of_range(client, owner, changes):
    before = get_studio()
    expected = (before.horizon, before.horizon_days, before.pending_expiry_hours)
    response = client.post("/admin/studio", data=_studio_form(**changes))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "is-invalid" in page or "alert-danger" in page
    db.session.expire_all()
    after = get_studio()
    assert (after.horizon, after.horizon_days, after.pending_expiry_hours) == expected
