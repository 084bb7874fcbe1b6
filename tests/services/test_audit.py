"""The audit log: account changes are recorded with the change itself, and read back with every booking change."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking_app.domain.timeutil import start_of_day
from booking_app.extensions import db
from booking_app.models import AuditEntry
from booking_app.services import ServiceError, audit
from booking_app.services.bookings import cancel, confirm, move, request_booking
from booking_app.services.users import change_role, delete_account, set_active
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import Users
from tests.services.test_privacy import statements

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def _everything() -> audit.AuditFilters:
    return audit.AuditFilters()


def test_role_changes_deactivations_and_deletions_are_recorded_with_who_and_whom(users):
    owner, sam = users.make("owner", name="Olivia Owner"), users.make(name="Sam Student")
    change_role(sam, "instructor", acting=owner)
    change_role(sam, "instructor", acting=owner)  # no change, no line
    set_active(sam, False, acting=owner)
    set_active(sam, True, acting=owner)
    delete_account(sam, Users.password)
    assert _actions() == ["role.changed", "account.deactivated", "account.reactivated", "account.deleted"]
    role = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).first()
    assert (role.actor_id, role.subject_user_id, role.detail) == (owner.id, sam.id, {"from": "student", "to": "instructor"})
    lines = audit.page(_everything()).lines
    assert [line.action for line in lines] == ["account.deleted", "account.reactivated", "account.deactivated",
                                               "role.changed"]
    assert lines[0].actor == "Deleted user" and lines[-1].subject == "Deleted user"  # erased everywhere
    assert lines[0].subject == "" and lines[0].detail == "was an instructor; nothing ahead cancelled"
    assert lines[-1].actor == "Olivia Owner" and lines[-1].detail == "from student to instructor"


def test_a_refused_change_records_nothing(users):
    owner = users.make("owner")
    with pytest.raises(ServiceError):
        change_role(owner, "student", acting=owner)
    with pytest.raises(ServiceError):
        delete_account(owner, "wrong password")
    assert _actions() == []


def test_record_joins_the_callers_transaction(users):
    owner = users.make("owner")
    audit.record(owner, audit.AuditAction.INVITATION_SENT, detail={"email": "new@example.test"})
    db.session.rollback()
    assert _actions() == []
    with pytest.raises(ValueError):
        audit.record(owner, "no.such.action")


def test_booking_changes_appear_newest_first_with_the_booking_and_who_acted(app, users):
    owner, ada, sam = users.make("owner"), users.make("instructor", name="Ada Lovelace"), users.make(name="Sam Student")
    open_hours(ada)
    booking = request_booking(sam, ada.id, at(10, 10), now=NOW).booking
    confirm(ada, booking.id, now=NOW + timedelta(minutes=1))
    move(ada, booking.id, at(11, 10), now=NOW + timedelta(minutes=2))
    cancel(sam, booking.id, "Ill", now=NOW + timedelta(minutes=3))
    app.config["FROZEN_NOW"] = NOW + timedelta(minutes=4)
    set_active(sam, False, acting=owner)
    lines = audit.page(_everything()).lines
    assert [(line.kind, line.action, line.actor) for line in lines] == [
        ("account", "account.deactivated", owner.name),
        ("booking", "cancelled", "Sam Student"),
        ("booking", "moved", "Ada Lovelace"),
        ("booking", "confirmed", "Ada Lovelace"),
        ("booking", "requested", "Sam Student"),
    ]
    assert lines[1].booking_id == booking.id and lines[1].subject == "Sam Student with Ada Lovelace"
    assert lines[1].detail == "Ill"


def test_the_log_is_filtered_by_person_as_actor_or_subject_and_by_dates(users):
    owner, ada, ben = users.make("owner"), users.make("instructor"), users.make("instructor")
    sam, priya = users.make(), users.make()
    open_hours(ada)
    open_hours(ben)
    request_booking(sam, ada.id, at(10, 10), now=NOW)
    request_booking(priya, ben.id, at(10, 10), now=NOW)
    change_role(priya, "instructor", acting=owner)
    sams = audit.page(audit.AuditFilters(person_id=sam.id)).lines
    assert [line.action for line in sams] == ["requested"]
    priyas = audit.page(audit.AuditFilters(person_id=priya.id)).lines
    assert [line.action for line in priyas] == ["role.changed", "requested"]  # the subject of the change
    assert [line.action for line in audit.page(audit.AuditFilters(person_id=owner.id)).lines] == ["role.changed"]
    day = NOW.date()
    today = audit.AuditFilters(starts_from=start_of_day(day, "UTC"), starts_before=start_of_day(day + timedelta(days=1), "UTC"))
    assert audit.page(today).total == 3
    tomorrow = audit.AuditFilters(starts_from=start_of_day(day + timedelta(days=1), "UTC"),
                                  starts_before=start_of_day(day + timedelta(days=2), "UTC"))
    assert audit.page(tomorrow).total == 0


def test_reading_a_page_takes_the_same_queries_however_many_lines_it_shows(users):
    owner, ada = users.make("owner"), users.make("instructor")
    open_hours(ada)
    students = [users.make() for _ in range(6)]
    request_booking(students[0], ada.id, at(10, 9), now=NOW)
    change_role(students[0], "instructor", acting=owner)
    db.session.expire_all()
    with statements() as few:
        small = audit.page(_everything())
    for hour, student in zip(range(10, 15), students[1:], strict=True):
        confirm(ada, request_booking(student, ada.id, at(10, hour), now=NOW).booking.id, now=NOW)
        change_role(student, "instructor", acting=owner)
    db.session.expire_all()
    with statements() as many:
        big = audit.page(_everything())
    assert (small.total, big.total) == (2, 17)
    assert len(many) == len(few) <= 5


def test_pages_split_the_log_and_the_export_holds_every_line(users, monkeypatch):
    owner = users.make("owner")
    people = [users.make() for _ in range(5)]
    for person in people:
        change_role(person, "instructor", acting=owner)
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    first, third = audit.page(_everything(), number=1), audit.page(_everything(), number=3)
    assert (first.pages, len(first.lines), len(third.lines)) == (3, 2, 1)
    assert first.has_next and not third.has_next
    assert len(list(audit.export(_everything(), chunk=2))) == 5
