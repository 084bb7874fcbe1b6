"""The invitation wording: roles after "as", expiries in a zone, what was sent and why nothing was."""

from __future__ import annotations

from datetime import UTC, datetime

from booking_app import wording

DEC_10_15H = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)


def test_roles_take_their_article():
    assert [wording.as_role(r) for r in ("student", "instructor", "owner")] == ["a student", "an instructor", "an owner"]


def test_an_expiry_is_said_in_the_given_zone():
    assert wording.invitation_expiry(DEC_10_15H, "America/New_York", False) == "Expires Thu 10 Dec 2026, 10:00 AM"
    assert wording.invitation_expiry(DEC_10_15H, "UTC", True) == "Expired Thu 10 Dec 2026, 3:00 PM"
    assert wording.until_with_zone(DEC_10_15H, "Europe/Berlin") == "Thu 10 Dec 2026, 4:00 PM CET"


def test_sent_and_refused_imports_are_counted_in_words():
    assert wording.invitations_sent(1, 0) == "1 invitation sent; each link works for 7 days."
    assert wording.invitations_sent(3, 1) == "3 invitations sent (1 replaces an earlier one); each link works for 7 days."
    assert wording.invitation_refused(2) == "2 rows have problems, so nobody was invited. Fix the file and upload it again."
