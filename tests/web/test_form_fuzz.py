"""Hypothesis posts generated data to every HTML form the app shows: never a 500, never a half-written row.

The forms are found, not listed: the signed-in pages are fetched and every ``<form method="post">`` on them is
parsed into its action and fields, so a new form is fuzzed without editing this file. Each field gets the page's
own value or options, hostile text (NUL, lone surrogates, 10,000 characters), numbers beyond every column, far
dates and impossible times. A 4xx answer must leave every row as it was; a request that wrote is undone so the
next example starts from the same world. CSRF is off here so the data reaches the form validation (the
authorization matrix checks CSRF).
"""

from __future__ import annotations

import hashlib
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote_from_bytes, urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask, request_started
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from booking_app.extensions import db
from booking_app.models import User
from tests.booking_helpers import NOW, at
from tests.conftest import _make_app, fresh_globals, release_app, sign_in_cookie
from tests.matrix_world import build_world, restore_rows

EXAMPLES_PER_FORM = 18  # about a minute per database on a busy 2-core machine
ACTORS = ("anonymous", "student_a", "instructor_a", "owner")
# Forms that end the session the test signs in with: posting them would sign every later example out.
SKIPPED_ACTIONS = {"/logout": "signs the test's session out",
                   "/profile/sessions/end": "ends every session of the test's user"}
# Bookkeeping that any signed-in request may touch (a token's last use), not something the request wrote.
BOOKKEEPING = {("api_tokens", "last_used_at")}

NASTY = [
    "", " ", "\x00", "a\x00b", "\ud800", "a\udfffb", "\u202e", "😀", "<script>alert(1)</script>", "' OR 1=1 --",
    "0", "-1", "1", "2147483647", "2147483648", "-2147483649", "9223372036854775808", "99999999999999999999",
    "1e20", "NaN", "inf", "3.5", "0x10",
    "9999-12-31", "0001-01-01", "1970-01-01", "2100-01-01", "2026-02-30", "2026-02-12",
    "25:00", "24:00", "09:30", "23:59", "-01:00", "9:5",
    "2026-02-12T10:00:00Z", "9999-12-31T23:59:59Z",
    "x" * 10_000, "é" * 10_000,
]


# --- the pages and their forms -----------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    values: list[str] = field(default_factory=list)  # the page's own value(s) and options
    checked: list[str] = field(default_factory=list)  # checkboxes/radios/selected options as the page shows them


@dataclass
class Form:
    actor: str
    page: str
    action: str
    fields: dict[str, Field]

    @property
    def key(self) -> tuple[str, frozenset[str]]:
        return (self.action, frozenset(self.fields))

    def as_shown(self) -> dict[str, list[str]]:
        """The data a browser sends when the form is submitted as the page shows it."""
        data: dict[str, list[str]] = {}
        for f in self.fields.values():
            if f.kind in ("checkbox", "radio", "select", "submit", "button"):
                chosen = f.checked or (f.values[:1] if f.kind in ("select", "submit", "button", "radio") else [])
            else:
                chosen = f.values[:1] or [""]
            if chosen:
                data[f.name] = chosen[:1] if f.kind in ("radio", "submit", "button") else chosen
        return data

    def blanked(self) -> list[dict[str, list[str]]]:
        """The form as shown with one field a person fills in set to a blank, for each such field."""
        shown = self.as_shown()
        return [{**shown, name: [" "]} for name in sorted(self.fields) if self.fields[name].kind != "hidden"]


class FormParser(HTMLParser):
    """Collect every POST form (action, fields) and every link of a page."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[tuple[str, dict[str, Field]]] = []
        self.links: list[str] = []
        self._form: dict[str, Field] | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None
        self._pending_option: dict[str, str] | None = None

    def _field(self, name: str, kind: str) -> Field:
        assert self._form is not None
        return self._form.setdefault(name, Field(name, kind))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "option" and self._select is not None:
            if "value" in a:
                self._option(a["value"], "selected" in a)
            else:
                self._pending_option = a  # its value is its text
            return
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.page, a["href"]))
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = {}
                self.forms.append((urljoin(self.page, a.get("action") or self.page), self._form))
            return
        if self._form is None or not a.get("name"):
            return
        name = a["name"]
        if tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            f = self._field(name, kind)
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            if value not in f.values:
                f.values.append(value)
            if kind in ("checkbox", "radio") and "checked" in a:
                f.checked.append(value)
        elif tag == "select":
            self._select = self._field(name, "select-multiple" if "multiple" in a else "select")
        elif tag == "textarea":
            self._textarea = self._field(name, "textarea")
            self._textarea.values.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def _option(self, value: str, selected: bool) -> None:
        assert self._select is not None
        if value not in self._select.values:
            self._select.values.append(value)
        if selected:
            self._select.checked.append(value)

    def handle_data(self, data: str) -> None:
        if self._pending_option is not None:
            self._option(data.strip(), "selected" in self._pending_option)
            self._pending_option = None
        if self._textarea is not None:
            self._textarea.values[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse_page(page: str, html: str) -> tuple[list[tuple[str, dict[str, Field]]], list[str]]:
    parser = FormParser(page)
    parser.feed(html)
    parser.close()
    return parser.forms, parser.links


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- the world ---------------------------------------------------------------------------------------


@dataclass
class World:
    app: Flask
    names: dict[str, str]
    clients: dict[str, FlaskClient]
    cookies: dict[str, str | None]
    rows: dict[str, list[dict[str, Any]]]


def _read_rows() -> dict[str, list[dict[str, Any]]]:
    out = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [dict(r) for r in conn.execute(sa.select(table).order_by(*order)).mappings()]
    return out


def snapshot() -> str:
    """Return a hash of every row of every table (bookkeeping columns aside)."""
    digest = hashlib.sha256()
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in BOOKKEEPING]
            order = list(table.primary_key.columns) or columns
            rows = conn.execute(sa.select(*columns).order_by(*order)).all()
            digest.update(f"{table.name}:{len(rows)}:{rows!r}".encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def world(test_env: dict[str, str]) -> Iterator[World]:
    app = _make_app(test_env, FROZEN_NOW=NOW, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    request_started.connect(fresh_globals, app)
    with app.app_context():
        built = build_world()
        clients, cookies = {}, {}
        for actor in ACTORS:
            client = app.test_client()
            if actor != "anonymous":
                sign_in_cookie(client, db.session.get(User, built["ids"][actor]))
            cookie = client.get_cookie("session")
            cookies[actor] = cookie.value if cookie else None
            clients[actor] = client
        db.session.remove()
        yield World(app, built["names"], clients, cookies, _read_rows())
        release_app(app)


def _as(world: World, actor: str) -> FlaskClient:
    """Return the actor's client with its signed-in cookie put back (a request may have replaced it)."""
    client = world.clients[actor]
    cookie = world.cookies[actor]
    if cookie:
        client.set_cookie("session", cookie)
    else:
        client.delete_cookie("session")
    return client


def _pages(world: World) -> dict[str, list[str]]:
    n = world.names
    block_day, one_time_day = at(25, 0).date().isoformat(), at(20, 0).date().isoformat()  # as tests/matrix_world.py
    return {
        "anonymous": ["/login", "/signup", "/password/forgot", f"/act/decline/{n['act_decline']}",
                      f"/act/cancel/{n['act_cancel']}", f"/act/reschedule/{n['act_reschedule']}",
                      f"/invitations/{n['invitation_token']}"],
        "student_a": ["/profile", "/profile/password", "/profile/address", "/dashboard", "/bookings", "/notifications",
                      f"/bookings/{n['booking']}",
                      f"/bookings/{n['pending']}", f"/bookings/{n['booking']}/messages",
                      f"/book/{n['instructor_a']}", f"/series/{n['series_booked']}"],
        "instructor_a": ["/profile", "/dashboard", "/schedule", "/schedule?view=month", "/schedule/settings",
                         f"/schedule?date={block_day}", f"/schedule?date={one_time_day}",
                         f"/bookings/{n['booking']}", f"/bookings/{n['pending']}",
                         f"/book/{n['instructor_a']}?reschedule={n['booking']}",
                         "/notifications", "/booking-links", "/invitations", "/schedule/book-student",
                         "/students", f"/students/{n['user']}", f"/bookings/{n['past']}",
                         f"/series/{n['series']}", f"/series/{n['series_booked']}"],
        "owner": ["/profile", "/dashboard", "/admin/users", "/admin/studio", "/dashboard/studio",
                  f"/book/{n['instructor_a']}", f"/schedule?instructor={n['instructor_a']}",
                  f"/schedule/book-student?instructor={n['instructor_a']}",
                  "/students", f"/students/{n['user']}?instructor={n['instructor_a']}"],
    }


# Links worth following one step: the confirm page a slot leads to, a window's edit page.
FOLLOW = ("/book/confirm?", "/schedule/windows/")


def discover(world: World) -> list[Form]:
    """Fetch the pages as each actor and return every distinct POST form (action + field names)."""
    found: dict[tuple[str, frozenset[str]], Form] = {}
    for actor, pages in _pages(world).items():
        queue, seen = list(pages), set(pages)
        while queue:
            page = queue.pop(0)
            response = _as(world, actor).get(page)
            assert response.status_code == 200, (actor, page, response.status_code)
            forms, links = parse_page(page, response.get_data(as_text=True))
            for action, fields in forms:
                form = Form(actor, page, _path(action), fields)
                found.setdefault(form.key, form)
            for link in map(_path, links):
                if link.startswith(FOLLOW) and link not in seen and "/delete" not in link:
                    # one slot link and one edit page of each kind are enough
                    prefix = link.split("?")[0].rsplit("/", 1)[0] if link.startswith("/schedule") else "/book/confirm"
                    if any(s.startswith(prefix) for s in seen):
                        continue
                    seen.add(link)
                    queue.append(link)
        db.session.remove()
    return sorted(found.values(), key=lambda f: (f.action, sorted(f.fields)))


# --- generating data ---------------------------------------------------------------------------------

HOSTILE_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)


def _value(f: Field) -> st.SearchStrategy[str]:
    own = [v for v in f.values if v is not None] or [""]
    return st.one_of(st.sampled_from(own), st.sampled_from(NASTY), HOSTILE_TEXT)


def _field_data(f: Field) -> st.SearchStrategy[list[str] | None]:
    """A field's values: absent, one value, or several (a multi-select or repeated checkbox)."""
    return st.one_of(
        st.none(),
        _value(f).map(lambda v: [v]),
        st.lists(_value(f), min_size=2, max_size=3),
    )


def form_data(form: Form) -> st.SearchStrategy[dict[str, list[str]]]:
    shown = form.as_shown()
    names = sorted(form.fields)

    def mutate_one(choice: tuple[str, list[str] | None]) -> dict[str, list[str]]:
        name, values = choice
        data = dict(shown)
        if values is None:
            data.pop(name, None)
        else:
            data[name] = values
        return data

    one_field = st.sampled_from(names).flatmap(
        lambda name: _field_data(form.fields[name]).map(lambda values: (name, values))
    ).map(mutate_one) if names else st.just(shown)
    every_field = st.fixed_dictionaries({name: _field_data(form.fields[name]) for name in names}).map(
        lambda d: {k: v for k, v in d.items() if v is not None}
    )
    return st.one_of(one_field, every_field)


def encode(data: dict[str, list[str]]) -> bytes:
    """Form-encode as a browser would, letting lone surrogates through as their UTF-8 bytes."""
    pairs = []
    for name, values in data.items():
        for value in values:
            pairs.append(quote_from_bytes(name.encode("utf-8", "surrogatepass"))
                         + "=" + quote_from_bytes(value.encode("utf-8", "surrogatepass")))
    return "&".join(pairs).encode("ascii")


# --- the check ---------------------------------------------------------------------------------------


def _fuzz(world: World, form: Form, pristine: str, failures: list[str], statuses: Counter[int]) -> int:
    sent = 0

    @given(data=form_data(form))
    @example(data=form.as_shown())
    @settings(max_examples=EXAMPLES_PER_FORM, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(data: dict[str, list[str]]) -> None:
        nonlocal sent
        sent += 1
        before = pristine
        label = f"POST {form.action} as {form.actor} (form on {form.page}) data={data!r:.400}"
        try:
            response = _as(world, form.actor).post(form.action, data=encode(data),
                                                   content_type="application/x-www-form-urlencoded")
            status = response.status_code
            body = response.get_data(as_text=True)
        except Exception:  # the test app re-raises what production answers with a 500
            status, body = 500, traceback.format_exc(limit=-3)
        finally:
            db.session.remove()
        statuses[status] += 1
        after = snapshot()
        if status >= 500:
            failures.append(f"{label}: {status} {body[-800:]}")
        elif 400 <= status < 500 and after != before:
            failures.append(f"{label}: answered {status} but wrote to the database")
        if after != before:
            restore_rows(world.rows)
            assert snapshot() == pristine

    for blank in form.blanked():  # a blank where a choice is optional reads as no choice
        run = example(data=blank)(run)
    run()
    return sent


def test_every_form_survives_generated_data_without_500s_or_half_writes(world, capsys):
    started = time.monotonic()
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    with world.app.app_context():
        forms = discover(world)
        skipped = [f for f in forms if f.action.split("?")[0] in SKIPPED_ACTIONS]
        fuzzed = [f for f in forms if f not in skipped]
        world.rows = _read_rows()  # reading the pages marks things seen: the examples start from here
        pristine = snapshot()
        sent = sum(_fuzz(world, form, pristine, failures, statuses) for form in fuzzed)
    with capsys.disabled():
        print(f"\nform fuzz: {len(fuzzed)} forms × {EXAMPLES_PER_FORM} generated examples (+ the form as shown and "
              f"each field blank) = {sent} posts in "
              f"{time.monotonic() - started:.1f}s, {len(failures)} failures; answers "
              f"{', '.join(f'{code}×{n}' for code, n in sorted(statuses.items()))}")
        for form in fuzzed:
            print(f"  fuzzed  {form.action} as {form.actor}: {', '.join(sorted(form.fields))}")
        for form in skipped:
            print(f"  skipped {form.action}: {SKIPPED_ACTIONS[form.action.split('?')[0]]}")
    assert len(fuzzed) >= 15, [f.action for f in fuzzed]  # the pages still show their forms
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures)
