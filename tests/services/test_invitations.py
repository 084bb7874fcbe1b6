"""Invitations: who may invite whom, a 7-day single-use link, resend and revoke, the invitee's account, CSV imports."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking_app.domain.invitations import MAX_CSV_ROWS, read_csv, read_payload
from booking_app.domain.links import LinkPurpose, LinkState
from booking_app.extensions import db
from booking_app.models import AccessLink, Effect, InstructorSettings, User
from booking_app.services import ServiceError, effects, invitations
from tests.conftest import count, utc

NOW = utc(2026, 12, 3, 15, 0)
HEADER = b"name,email,role,timezone\n"


def _secret(sent: invitations.SentInvitation) -> str:
    return sent.url.rsplit("/", 1)[1]


def _links(email: str) -> list[AccessLink]:
    return list(db.session.scalars(sa.select(AccessLink).where(AccessLink.email == email).order_by(AccessLink.id)))


@pytest.fixture
def owner(app, users):
    app.config["FROZEN_NOW"] = NOW
    return users.make("owner", name="Olga Owner", timezone="Europe/Berlin")


@pytest.fixture
def teacher(app, users):
    app.config["FROZEN_NOW"] = NOW
    return users.make("instructor", name="Ines Teacher", timezone="America/New_York")


# --- who may invite whom ------------------------------------------------------------------------------


def test_the_owner_invites_any_role_for_seven_days_in_the_owners_zone_by_default(owner):
    sent = invitations.invite(owner, email=" Ana@Example.test ", name=" Ana Ruiz ", role="instructor")
    link = sent.link
    assert (link.purpose, link.email, link.created_by_id) == (LinkPurpose.INVITATION, "ana@example.test", owner.id)
    assert link.data == {"name": "Ana Ruiz", "role": "instructor", "timezone": "Europe/Berlin"}
    assert link.expires_at == NOW + timedelta(days=7)
    assert sent.url.startswith("http://") and "/invitations/" in sent.url
    assert invitations.look_up(_secret(sent))[1] is LinkState.VALID


def test_an_instructor_invites_students_only(teacher):
    sent = invitations.invite(teacher, email="sam@example.test", name="Sam", role="student", timezone="Asia/Tokyo")
    assert sent.link.data["timezone"] == "Asia/Tokyo"
    for role in ("instructor", "owner"):
        with pytest.raises(ServiceError) as refused:
            invitations.invite(teacher, email="x@example.test", name="X", role=role)
        assert refused.value.status == 403
    assert count(AccessLink, AccessLink.email == "x@example.test") == 0


def test_a_student_cannot_invite_anyone(users):
    student = users.make("student")
    with pytest.raises(ServiceError) as refused:
        invitations.invite(student, email="friend@example.test", name="Friend", role="student")
    assert refused.value.status == 403
    assert count(AccessLink) == 0


def test_an_address_that_has_an_account_is_refused_with_409(owner, users):
    users.make("student", email="taken@example.test")
    with pytest.raises(ServiceError) as refused:
        invitations.invite(owner, email="TAKEN@example.test", name="Taken", role="student")
    assert refused.value.status == 409
    assert "already has an account" in refused.value.message
    assert count(AccessLink) == 0 and count(Effect) == 0


@pytest.mark.parametrize(("field", "value"), [
    ("email", "not-an-address"), ("email", "a@b.c" + "x" * 260), ("name", " "), ("name", "x" * 121),
    ("timezone", "Mars/Olympus"), ("timezone", "localtime"), ("role", "wizard"),
])
def test_bad_fields_are_refused_naming_the_field_and_write_nothing(owner, field, value):
    values = {"email": "ok@example.test", "name": "Ok", "role": "student", "timezone": "UTC", field: value}
    with pytest.raises(ServiceError) as refused:
        invitations.invite(owner, **values)
    assert refused.value.status == 422 and refused.value.field == field
    assert count(AccessLink) == 0


# --- the link ---------------------------------------------------------------------------------------------


def test_the_invitation_mail_names_the_studio_the_inviter_the_link_and_its_expiry_in_the_invitees_zone(
    app, owner, inbox
):
    sent = invitations.invite(owner, email="ana@example.test", name="Ana Ruiz", role="student", timezone="Asia/Tokyo")
    assert effects.run_due(NOW) == 1
    [mail] = inbox.messages
    assert mail["To"] == "Ana Ruiz <ana@example.test>"
    assert mail["Subject"] == "Olga Owner invited you to The Studio"
    text = mail.get_body(("plain",)).get_content()
    assert "Olga Owner invited you to The Studio as a student." in text
    assert sent.url in text
    # 15:00 UTC on 10 Dec is midnight in Tokyo (JST, UTC+9)
    assert "until Fri 11 Dec 2026, 12:00 AM JST" in text
    html = mail.get_body(("html",)).get_content()
    assert f'href="{sent.url}"' in html and "Accept the invitation" in html


def test_accepting_creates_the_account_with_the_role_and_zone_and_spends_the_link(owner):
    sent = invitations.invite(owner, email="ana@example.test", name="Ana Ruiz", role="instructor", timezone="Asia/Tokyo")
    user = invitations.accept(_secret(sent), name="Ana R.", password="a-good-password")
    assert (user.email, user.name, user.role, user.timezone) == ("ana@example.test", "Ana R.", "instructor", "Asia/Tokyo")
    assert user.check_password("a-good-password")
    assert count(InstructorSettings, InstructorSettings.user_id == user.id) == 1
    assert invitations.look_up(_secret(sent))[1] is LinkState.USED
    with pytest.raises(ServiceError) as again:
        invitations.accept(_secret(sent), name="Ana", password="another-password")
    assert again.value.status == 410 and "already been used" in again.value.message
    assert count(User, User.email == "ana@example.test") == 1


def test_an_invitation_stops_working_after_seven_days(app, owner):
    sent = invitations.invite(owner, email="ana@example.test", name="Ana", role="student")
    app.config["FROZEN_NOW"] = NOW + timedelta(days=7, seconds=-1)
    assert invitations.look_up(_secret(sent))[1] is LinkState.VALID
    app.config["FROZEN_NOW"] = NOW + timedelta(days=7)
    assert invitations.look_up(_secret(sent))[1] is LinkState.EXPIRED
    with pytest.raises(ServiceError, match="expired") as refused:
        invitations.accept(_secret(sent), name="Ana", password="a-good-password")
    assert refused.value.status == 410
    assert count(User, User.email == "ana@example.test") == 0


def test_a_short_password_is_refused_and_the_link_still_works(owner):
    sent = invitations.invite(owner, email="ana@example.test", name="Ana", role="student")
    with pytest.raises(ServiceError) as refused:
        invitations.accept(_secret(sent), name="Ana", password="short")
    assert refused.value.field == "password"
    assert invitations.look_up(_secret(sent))[1] is LinkState.VALID


def test_an_address_that_signed_up_meanwhile_cannot_accept_and_the_link_is_not_spent(owner, users):
    sent = invitations.invite(owner, email="ana@example.test", name="Ana", role="instructor")
    users.make("student", email="ana@example.test")
    with pytest.raises(ServiceError) as refused:
        invitations.accept(_secret(sent), name="Ana", password="a-good-password")
    assert refused.value.status == 409 and "Sign in" in refused.value.message
    assert invitations.look_up(_secret(sent))[1] is LinkState.VALID
    assert db.session.scalar(sa.select(User.role).where(User.email == "ana@example.test")) == "student"


def test_two_acceptances_racing_make_one_account(app, owner, backend):
    sent = invitations.invite(owner, email="race@example.test", name="Race", role="student")
    secret = _secret(sent)
    db.session.remove()
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def accept() -> None:
        with app.app_context():
            barrier.wait()
            try:
                invitations.accept(secret, name="Race", password="a-good-password")
                outcomes.append("created")
            except ServiceError as exc:
                outcomes.append(str(exc.status))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["410", "410", "410", "created"]
    assert count(User, User.email == "race@example.test") == 1


# --- resend and revoke ---------------------------------------------------------------------------------------


def test_inviting_an_address_again_resends_instead_of_making_two(owner):
    first = invitations.invite(owner, email="ana@example.test", name="Ana", role="student")
    second = invitations.invite(owner, email="ana@example.test", name="Ana Ruiz", role="instructor")
    assert second.replaced and not first.replaced
    assert invitations.look_up(_secret(first))[1] is LinkState.REVOKED
    assert invitations.look_up(_secret(second))[1] is LinkState.VALID
    assert [link.revoked_at is None for link in _links("ana@example.test")] == [False, True]


def test_resend_issues_a_new_link_and_withdraws_the_old_one_even_after_expiry(app, owner, teacher):
    sent = invitations.invite(teacher, email="sam@example.test", name="Sam", role="student")
    app.config["FROZEN_NOW"] = NOW + timedelta(days=8)
    again = invitations.resend(owner, sent.link.id)
    assert again.link.id != sent.link.id
    assert again.link.created_by_id == teacher.id  # the mail still says who invited them
    assert again.link.expires_at == NOW + timedelta(days=15)
    assert invitations.look_up(_secret(sent))[1] is LinkState.REVOKED
    assert invitations.look_up(_secret(again))[1] is LinkState.VALID
    assert count(Effect, Effect.kind == "account_mail") == 2


def test_revoke_withdraws_the_link_at_once(owner):
    sent = invitations.invite(owner, email="ana@example.test", name="Ana", role="student")
    invitations.revoke(owner, sent.link.id)
    assert invitations.look_up(_secret(sent))[1] is LinkState.REVOKED
    with pytest.raises(ServiceError, match="withdrawn") as refused:
        invitations.accept(_secret(sent), name="Ana", password="a-good-password")
    assert refused.value.status == 410
    with pytest.raises(ServiceError) as twice:
        invitations.revoke(owner, sent.link.id)
    assert twice.value.status == 409


def test_an_instructor_manages_only_their_own_invitations(owner, teacher, users):
    other = users.make("instructor")
    mine = invitations.invite(teacher, email="mine@example.test", name="Mine", role="student")
    theirs = invitations.invite(owner, email="theirs@example.test", name="Theirs", role="student")
    for action in (invitations.resend, invitations.revoke):
        with pytest.raises(ServiceError) as refused:
            action(other, mine.link.id)
        assert refused.value.status == 404
        with pytest.raises(ServiceError):
            action(teacher, theirs.link.id)
    # nor may they replace someone else's open invitation by inviting the address again
    with pytest.raises(ServiceError) as taken:
        invitations.invite(other, email="mine@example.test", name="Mine", role="student")
    assert taken.value.status == 409 and "Ines Teacher" in taken.value.message
    assert invitations.look_up(_secret(mine))[1] is LinkState.VALID


# --- CSV ------------------------------------------------------------------------------------------------------


def test_a_csv_with_a_bom_and_crlf_lines_is_read_with_its_row_numbers():
    parsed = read_csv("\ufeffName,Email,Role,Timezone\r\nAna,ana@example.test,student,UTC\r\n\r\nBo,bo@example.test,Student,\r\n".encode())
    assert parsed.problem is None
    assert [(r.line, r.name, r.email, r.role, r.timezone) for r in parsed.rows] == [
        (2, "Ana", "ana@example.test", "student", "UTC"), (4, "Bo", "bo@example.test", "Student", "")]


@pytest.mark.parametrize(("data", "sentence"), [
    (b"", "The file is empty"),
    (b"email,name\nana@example.test,Ana\n", "The first row must be the header"),
    (b"name,email,role,timezone\n", "nobody to invite"),
    ("name,email,role,timezone\nAna,ana@example.test,student,UTC\n".encode("utf-16"), "not UTF-8"),
    (HEADER + b"x" * (512 * 1024), "larger than 512 KiB"),
    (HEADER + b"".join(b"P%d,p%d@example.test,student,UTC\n" % (i, i) for i in range(MAX_CSV_ROWS + 1)),
     "more than 500 people"),
])
def test_a_file_that_cannot_be_read_is_refused_as_a_whole_with_a_sentence(data, sentence):
    parsed = read_csv(data)
    assert parsed.rows == [] and parsed.problem is not None and sentence in parsed.problem


def test_the_preview_names_each_rows_problems_and_writes_nothing(owner, teacher, users):
    users.make("student", email="taken@example.test")
    invitations.invite(owner, email="open@example.test", name="Open", role="student")
    data = HEADER + "\n".join([
        "Good Person,good@example.test,student,Europe/Paris",
        "Bad Address,not-an-address,student,UTC",
        "Odd Role,odd@example.test,wizard,UTC",
        "Too High,high@example.test,instructor,UTC",
        "Lost Zone,lost@example.test,student,Mars/Olympus",
        "Twice,good@example.test,student,UTC",
        "Has Account,taken@example.test,student,UTC",
        "Short Row,short@example.test",
        "Open Elsewhere,open@example.test,student,",
    ]).encode()
    before = (count(AccessLink), count(Effect))
    preview = invitations.preview_csv(teacher, data)
    problems = {row.name: " ".join(row.problems) for row in preview.rows}
    assert problems["Good Person"] == ""
    assert "not a valid email address" in problems["Bad Address"]
    assert "role is unknown" in problems["Odd Role"]
    assert "students only" in problems["Too High"]
    assert "Mars/Olympus" in problems["Lost Zone"] and "unknown" in problems["Lost Zone"]
    assert "also on row 2" in problems["Twice"]
    assert "already has an account" in problems["Has Account"]
    assert "2 cells" in problems["Short Row"]
    assert "open invitation from Olga Owner" in problems["Open Elsewhere"]
    assert not preview.ready and preview.problem_rows == 8
    assert (count(AccessLink), count(Effect)) == before


def test_the_owner_replacing_an_open_invitation_by_csv_is_told_in_a_note(owner):
    invitations.invite(owner, email="open@example.test", name="Open", role="student")
    preview = invitations.preview_csv(owner, HEADER + b"Open Again,open@example.test,instructor,\n")
    [row] = preview.rows
    assert row.problems == [] and "will be replaced" in row.notes[0]
    assert row.timezone == "Europe/Berlin"  # an empty zone is the inviter's
    assert preview.ready


def test_an_import_invites_everyone_the_preview_carried_in_one_go(owner):
    preview = invitations.preview_csv(owner, HEADER + "Ana Ruiz,ana@example.test,instructor,Asia/Tokyo\n"
                                      "Zoë Ünal,zoe@example.test,student,\n".encode())
    assert preview.ready
    sent = invitations.import_csv(owner, preview.payload)
    assert [(s.link.email, s.link.data["role"], s.link.data["timezone"]) for s in sent] == [
        ("ana@example.test", "instructor", "Asia/Tokyo"), ("zoe@example.test", "student", "Europe/Berlin")]
    assert sent[1].link.data["name"] == "Zoë Ünal"
    assert count(Effect, Effect.kind == "account_mail") == 2


def test_an_import_with_a_bad_row_in_the_middle_writes_nothing(owner, users):
    rows = [f"Person {i},p{i}@example.test,student,UTC" for i in range(1, 11)]
    preview = invitations.preview_csv(owner, HEADER + "\n".join(rows).encode())
    assert preview.ready
    # Between preview and confirmation, person 5 signs up on their own: the import is refused as a whole.
    users.make("student", email="p5@example.test")
    with pytest.raises(invitations.CsvRefused) as refused:
        invitations.import_csv(owner, preview.payload)
    assert refused.value.status == 422 and "nobody was invited" in refused.value.message
    assert [row.line for row in refused.value.preview.rows if row.problems] == [6]
    assert count(AccessLink) == 0 and count(Effect) == 0


def test_a_tampered_preview_is_checked_again_like_a_file(owner, teacher):
    forged = '[[2,"Boss","boss@example.test","owner",""]]'
    with pytest.raises(invitations.CsvRefused) as refused:
        invitations.import_csv(teacher, forged)
    assert "students only" in refused.value.preview.rows[0].problems[0]
    for junk in ("", "{}", "[1,2]", '[[2,"a","b","c"]]', "[" * 100, '[[2,"a\\u0000","a@example.test","student",""]]'):
        with pytest.raises(invitations.CsvRefused):
            invitations.import_csv(owner, junk)
    assert count(AccessLink) == 0
    assert read_payload('[[2,"a\\ud800","a@example.test","student",""]]').rows[0].problems


def test_a_student_cannot_preview_or_import(users):
    student = users.make("student")
    for call in (lambda: invitations.preview_csv(student, HEADER), lambda: invitations.import_csv(student, "[]")):
        with pytest.raises(ServiceError) as refused:
            call()
        assert refused.value.status == 403


def test_inviting_again_after_expiry_withdraws_the_expired_invitation_too(app, owner):
    first = invitations.invite(owner, email="ana@example.test", name="Ana", role="student")
    app.config["FROZEN_NOW"] = NOW + timedelta(days=10)
    second = invitations.invite(owner, email="ana@example.test", name="Ana", role="student")
    assert second.replaced
    assert invitations.look_up(_secret(first))[1] is LinkState.REVOKED
    assert count(AccessLink, AccessLink.revoked_at.is_(None)) == 1


# --- the audit log ----------------------------------------------------------------------------------------


def test_every_invitation_action_is_in_the_audit_log(owner):
    from booking_app.models import AuditEntry

    first = invitations.invite(owner, email="ana@example.com", name="Ana", role="student")
    again = invitations.resend(owner, first.link.id)
    invitations.revoke(owner, again.link.id)
    fresh = invitations.invite(owner, email="ana@example.com", name="Ana", role="student")
    joined = invitations.accept(_secret(fresh), name="Ana", password="correct horse battery")
    preview = invitations.preview_csv(owner, b"name,email,role,timezone\nBo,bo@example.com,student,UTC\n")
    invitations.import_csv(owner, preview.payload)
    entries = db.session.execute(
        sa.select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.detail).order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.actor_id) for e in entries] == [
        ("invitation.sent", owner.id), ("invitation.resent", owner.id), ("invitation.revoked", owner.id),
        ("invitation.sent", owner.id), ("invitation.accepted", joined.id),
        ("invitation.sent", owner.id), ("users.imported", owner.id),
    ]
    assert entries[0].detail == {"email": "ana@example.com", "role": "student"}
    assert entries[-1].detail == {"count": 1}
