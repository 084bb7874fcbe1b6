"""Accounts: sign-up, sign-in, the profile (routes.py) and passwords and the sign-in address (passwords.py)."""

from . import passwords  # noqa: F401  (adds its pages to the auth blueprint of routes.py)
