"""Templates' url_for remembers paths: always the path url_for builds, whatever the script root, host or arguments."""

from __future__ import annotations

from flask import url_for

from booking_app.views import remembered_url_for

CASES = [
    ("booking.book", {}),
    ("booking.book", {"instructor_id": 7}),
    ("booking.book", {"instructor_id": 7, "month": "2026-02", "date": None, "tz": "instructor"}),
    ("booking.detail", {"booking_id": 3}),
    ("dashboard.index", {"tab": "closed", "page": 2}),
    ("static", {"filename": "css/app.css"}),
    ("booking.book", {"next": "/book?x=1&y=ä"}),
    ("booking.book", {"ids": [1, 2]}),  # not a key: built each time
    ("booking.book", {"_anchor": "top"}),
    ("booking.book", {"_external": True}),
]


def test_a_remembered_path_is_the_one_url_for_builds_for_every_root_and_host(app):
    assert app.jinja_env.globals["url_for"] is remembered_url_for
    for base in ("http://localhost/", "http://studio.example/lessons/", "https://other.example/"):
        with app.test_request_context("/", base_url=base):
            for _ in range(2):  # built, then remembered
                for endpoint, values in CASES:
                    assert remembered_url_for(endpoint, **values) == url_for(endpoint, **values), (base, endpoint)


def test_a_page_under_a_script_root_links_under_it(app, client):
    client.get("/book")  # the same paths remembered for the root first
    page = client.get("/book", base_url="http://localhost/lessons/").get_data(as_text=True)
    assert 'href="/lessons/static/css/app.css"' in page and 'href="/lessons/book"' in page
    assert 'href="/book"' not in page
