"""How people are named on pages: the first name for friendly sentences."""

from __future__ import annotations

from .models import User


def first_name(user: User) -> str:
    """Return the first word of a person's name (the whole name when it has no spaces)."""
    return (user.name.split() or [user.name])[0]
