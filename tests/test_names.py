"""Pages call people by one first-name helper."""

from __future__ import annotations

import pytest

from booking_app.models import User
from booking_app.names import first_name


@pytest.mark.parametrize(("name", "first"), [("Maria Lopez", "Maria"), ("Cher", "Cher"), ("  Ana  Maria ", "Ana"), ("", "")])
def test_first_name_is_the_first_word_of_the_name(name, first):
    assert first_name(User(name=name)) == first


def test_the_home_page_and_the_book_page_list_the_same_teaching_staff(client, users):
    owner = users.make("owner", name="Olga Owner")
    users.make("instructor", name="Ines Teacher")
    gone = users.make("instructor", name="Gone Teacher")
    gone.active = False
    users.make("student", name="Sam Student")
    from booking_app.extensions import db

    db.session.commit()
    home, book = (client.get(path).get_data(as_text=True) for path in ("/", "/book"))
    for page in (home, book):
        assert "Ines Teacher" in page and owner.name in page
        assert "Gone Teacher" not in page and "Sam Student" not in page
