"""The owner's studio overview: filters, paging, figures per instructor, the chart, CSV export and access."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from booking_app.extensions import db
from booking_app.models import BookingChange
from booking_app.services import dashboards
from tests.booking_helpers import NOW, at
from tests.services.test_dashboard_helpers import counting, make_booking

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def people(users):  # type: ignore[no-untyped-def]
    return {
        "owner": users.make("owner", name="Olga Owner"),
        "maria": users.make("instructor", name="Maria Lopez"),
        "ken": users.make("instructor", name="Ken Adams"),
        "sam": users.make("student", name="Sam Student"),
    }


def decided(booking, to_status: str, after: timedelta) -> None:  # type: ignore[no-untyped-def]
    """Record the instructor's answer in the history, `after` the request."""
    db.session.add(BookingChange(booking_id=booking.id, actor_id=booking.instructor_id, from_status="pending",
                                 to_status=to_status, at=booking.created_at + after))
    db.session.commit()


def test_students_and_instructors_are_refused_the_overview_and_its_csv(client, auth, people):
    for who in ("sam", "maria"):
        auth.login(people[who])
        assert client.get("/dashboard/studio").status_code == 403
        assert client.get("/dashboard/studio.csv").status_code == 403
        auth.logout()
    assert client.get("/dashboard/studio").status_code == 302


def test_the_overview_filters_by_instructor_status_and_dates(client, auth, people):
    p = people
    a = make_booking(p["maria"], p["sam"], at(5, 10), "confirmed")
    b = make_booking(p["ken"], p["sam"], at(5, 12), "confirmed")
    c = make_booking(p["maria"], p["sam"], at(6, 10), "declined")
    d = make_booking(p["maria"], p["sam"], at(20, 10), "confirmed")
    auth.login(p["owner"])

    def shown(query: str) -> set[int]:
        html = client.get("/dashboard/studio" + query).get_data(as_text=True)
        return {x.id for x in (a, b, c, d) if f'data-booking-id="{x.id}"' in html}

    assert shown("") == {a.id, b.id, c.id, d.id}
    assert shown(f"?instructor={p['maria'].id}") == {a.id, c.id, d.id}
    assert shown("?status=confirmed") == {a.id, b.id, d.id}
    assert shown("?from=2026-02-05&to=2026-02-06") == {a.id, b.id, c.id}
    assert shown(f"?instructor={p['maria'].id}&status=confirmed&from=2026-02-01&to=2026-02-10") == {a.id}


def test_the_pending_filter_leaves_out_requests_past_their_expiry(client, auth, people):
    p = people
    live = make_booking(p["maria"], p["sam"], at(5, 10))
    overdue = make_booking(p["maria"], p["sam"], at(5, 12), created_at=NOW - timedelta(hours=5),
                           expires_at=NOW - timedelta(hours=1))
    auth.login(p["owner"])
    pending = client.get("/dashboard/studio?status=pending").get_data(as_text=True)
    expired = client.get("/dashboard/studio?status=expired").get_data(as_text=True)
    assert f'data-booking-id="{live.id}"' in pending and f'data-booking-id="{overdue.id}"' not in pending
    assert f'data-booking-id="{overdue.id}"' in expired


def test_the_overview_pages_through_the_bookings(client, auth, people):
    for i in range(dashboards.STUDIO_PAGE_SIZE + 5):
        make_booking(people["maria"], people["sam"], at(3, 0) + timedelta(hours=i), "declined")
    auth.login(people["owner"])
    first = client.get("/dashboard/studio").get_data(as_text=True)
    second = client.get("/dashboard/studio?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and first.count("<tr data-booking-id=") == dashboards.STUDIO_PAGE_SIZE
    assert second.count("<tr data-booking-id=") == 5


def test_figures_per_instructor_count_requests_rate_median_cancellations_and_hours(app, people):
    p = people
    one = make_booking(p["maria"], p["sam"], at(1, 6), "completed", created_at=NOW - timedelta(days=3))
    decided(one, "confirmed", timedelta(hours=1))
    two = make_booking(p["maria"], p["sam"], at(1, 3), "completed", minutes=90, created_at=NOW - timedelta(days=3))
    decided(two, "confirmed", timedelta(hours=3))
    three = make_booking(p["maria"], p["sam"], at(5, 10), "declined", created_at=NOW - timedelta(days=1))
    decided(three, "declined", timedelta(hours=2))
    four = make_booking(p["maria"], p["sam"], at(6, 10), "cancelled")
    decided(four, "confirmed", timedelta(minutes=30))
    make_booking(p["maria"], p["sam"], at(28, 10), "expired")  # out of range below
    staff = dashboards.instructors()
    figures = {f.instructor.name: f for f in dashboards.studio_figures(at(1, 0), at(20, 0), staff)}
    maria = figures["Maria Lopez"]
    assert maria.requests == 4
    assert maria.confirmed == 3 and maria.answered == 4 and maria.confirmation_rate == 0.75
    assert maria.median_decide_seconds == 1.5 * 3600
    assert maria.cancellations == 1
    assert maria.hours_taught == 2.5
    assert figures["Ken Adams"].requests == 0 and figures["Ken Adams"].confirmation_rate is None


def test_the_overview_shows_the_figures_and_an_svg_chart(client, auth, people):
    p = people
    one = make_booking(p["maria"], p["sam"], at(1, 6), "completed", created_at=NOW - timedelta(days=3))
    decided(one, "confirmed", timedelta(hours=3, minutes=12))
    auth.login(p["owner"])
    html = client.get("/dashboard/studio?from=2026-02-01&to=2026-02-28").get_data(as_text=True)
    row = html[html.index(f'<tr data-instructor-id="{p["maria"].id}"'):]
    row = row[:row.index("</tr>")]
    assert 'data-figure="requests">1<' in row and 'data-figure="rate">100 %<' in row
    assert 'data-figure="median">3 h 12 min<' in row and 'data-figure="hours">1.0<' in row
    assert "<svg" in html and "Maria Lopez: 1 requests, 1 confirmed." in html


def test_the_csv_export_holds_every_filtered_booking(client, auth, people):
    p = people
    make_booking(p["maria"], p["sam"], at(5, 10), "declined", reason="Away", notes="=HYPERLINK(1)")
    make_booking(p["ken"], p["sam"], at(5, 12), "confirmed")
    for i in range(dashboards.STUDIO_PAGE_SIZE + 3):
        make_booking(p["maria"], p["sam"], at(3, 0) + timedelta(hours=i), "cancelled")
    auth.login(p["owner"])
    response = client.get(f"/dashboard/studio.csv?instructor={p['maria'].id}&from=2026-02-01&to=2026-02-28")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == dashboards.STUDIO_PAGE_SIZE + 4
    assert {r["instructor"] for r in rows} == {"Maria Lopez"}
    declined = next(r for r in rows if r["status"] == "declined")
    assert declined["starts_at_utc"] == "2026-02-05T10:00:00Z" and declined["status_reason"] == "Away"
    assert declined["student"] == "Sam Student" and declined["minutes"] == "60"
    assert declined["notes"] == "'=HYPERLINK(1)"  # spreadsheets must not run it


def test_the_overview_query_count_does_not_grow_with_bookings_or_instructors(client, auth, people, users):
    auth.login(people["owner"])

    def add(n: int, offset: int) -> None:
        for i in range(n):
            teacher = users.make("instructor")
            make_booking(teacher, people["sam"], at(3, 0) + timedelta(hours=offset + i), "confirmed")
            make_booking(people["maria"], people["sam"], at(10, 0) + timedelta(hours=offset + i), "declined")

    client.get("/dashboard/studio")  # the first visit stores the studio's default settings
    add(3, 0)
    with counting() as small:
        assert client.get("/dashboard/studio").status_code == 200
    add(30, 3)
    with counting() as large:
        assert client.get("/dashboard/studio").status_code == 200
    assert small.count == large.count
    assert large.count <= 14


def test_figures_are_cached_for_a_minute_and_match_a_fresh_computation(app, people):
    p = people
    one = make_booking(p["maria"], p["sam"], at(1, 6), "completed", created_at=NOW - timedelta(days=3))
    decided(one, "confirmed", timedelta(hours=2))
    staff = dashboards.instructors()
    first, hit = dashboards.cached_studio_figures(at(1, 0), at(20, 0), staff)
    assert not hit
    make_booking(p["maria"], p["sam"], at(5, 10), "declined")
    again, hit = dashboards.cached_studio_figures(at(1, 0), at(20, 0), staff)
    assert hit
    assert [(f.instructor.id, f.requests, f.median_decide_seconds) for f in again] == [
        (f.instructor.id, f.requests, f.median_decide_seconds) for f in first
    ]
    fresh = {f.instructor.name: f for f in dashboards.studio_figures(at(1, 0), at(20, 0), staff)}
    assert fresh["Maria Lopez"].requests == 2


def test_an_odd_number_of_decisions_has_the_middle_one_as_median(app, people):
    p = people
    for day, hours in ((1, 1), (2, 5), (3, 2)):
        booking = make_booking(p["ken"], p["sam"], at(day, 3, month=1), "completed", created_at=at(1, 0, month=1))
        decided(booking, "confirmed", timedelta(hours=hours))
    figures = {f.instructor.name: f for f in dashboards.studio_figures(at(1, 0, month=1), at(1, 0), dashboards.instructors())}
    assert figures["Ken Adams"].median_decide_seconds == 2 * 3600
