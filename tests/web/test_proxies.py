"""Behind TRUSTED_PROXIES hops the client address comes from X-Forwarded-For; otherwise the header is ignored."""

from __future__ import annotations

import pytest

from booking_app.config import config_from_env


def _failed_logins(client, user, forwarded_for: str, times: int) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for}
    return [
        client.post("/login", data={"email": user.email, "password": "wrong"}, headers=headers).status_code
        for _ in range(times)
    ]


@pytest.mark.app_config(TRUSTED_PROXIES=1)
def test_behind_one_trusted_proxy_each_forwarded_address_has_its_own_sign_in_limit(client, users):
    user = users.make()
    assert _failed_logins(client, user, "203.0.113.7", 11)[-1] == 429
    assert _failed_logins(client, user, "198.51.100.9", 1) == [200]


@pytest.mark.app_config(TRUSTED_PROXIES=1)
def test_behind_a_trusted_proxy_the_forwarded_scheme_and_host_are_used(app, client):
    seen = {}

    @app.get("/_probe")
    def probe() -> str:
        from flask import request

        seen.update(url=request.url_root, addr=request.remote_addr)
        return "ok"

    client.get("/_probe", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
                                   "X-Forwarded-Host": "lessons.example"})
    assert seen == {"url": "https://lessons.example/", "addr": "203.0.113.7"}


def test_without_trusted_proxies_a_forwarded_address_cannot_dodge_the_sign_in_limit(client, users):
    user = users.make()
    assert _failed_logins(client, user, "203.0.113.7", 11)[-1] == 429
    assert _failed_logins(client, user, "198.51.100.9", 1) == [429]


def test_trusted_proxies_is_read_from_the_environment_and_defaults_to_none():
    assert config_from_env({})["TRUSTED_PROXIES"] == 0
    assert config_from_env({"TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
