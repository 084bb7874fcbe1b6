"""Security headers on every answer: HSTS only over TLS, and a Permissions-Policy that denies unused features."""

from __future__ import annotations

import pytest


def test_plain_http_gets_no_hsts_but_every_other_header(client):
    response = client.get("/")
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["Permissions-Policy"].startswith("camera=()")
    assert "geolocation=()" in response.headers["Permissions-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_tls_gets_hsts(client):
    response = client.get("/", base_url="https://studio.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.app_config(TRUSTED_PROXIES=1)
def test_tls_ended_at_a_trusted_proxy_gets_hsts(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers


def test_a_forged_proxy_header_gets_no_hsts_without_trusted_proxies(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
