"""The privacy and audit log wording: what a booking change did, an audit line's details, the farewell."""

from __future__ import annotations

from booking_app import wording
from booking_app.domain.audit import AuditAction


def test_a_booking_change_is_named_by_what_it_did() -> None:
    assert wording.booking_change_kind(None, "pending", by_student=True) == "requested"
    assert wording.booking_change_kind("confirmed", "confirmed", by_student=False) == "moved"
    assert wording.booking_change_kind("pending", "cancelled", by_student=True) == "withdrawn"
    assert wording.booking_change_kind("pending", "cancelled", by_student=False) == "cancelled"
    assert wording.booking_change_kind(None, "confirmed", by_student=False) == "booked"  # staff booked it in
    assert set(wording.BOOKING_CHANGE_WORDS) == {"requested", "moved", "withdrawn", "booked", *wording.HISTORY_VERBS}


def test_every_audit_action_has_its_words() -> None:
    assert set(wording.AUDIT_WORDS) == {a.value for a in AuditAction}


def test_audit_details_read_as_phrases() -> None:
    assert wording.audit_detail("role.changed", {"from": "student", "to": "owner"}) == "from student to owner"
    assert wording.audit_detail("account.deleted", {"role": "instructor", "cancelled": 2}) == \
        "was an instructor; 2 lessons and requests ahead cancelled"
    assert wording.audit_detail("invitation.sent", {"role": "student", "email": "a@b.test"}) == \
        "email: a@b.test, role: student"


def test_the_farewell_says_what_was_cancelled() -> None:
    assert wording.account_deleted_notice(0) == ("Your account is deleted and you are signed out. "
                                                 "Thank you for being part of the studio.")
    assert "1 lesson or request ahead was cancelled, and the other person was told." in wording.account_deleted_notice(1)
    assert "3 lessons and requests ahead were cancelled" in wording.account_deleted_notice(3)
