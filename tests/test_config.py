"""The app refuses unsafe secret keys in production and keeps a generated one for the embedded default."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from booking_app import create_app


def _config(tmp_path: Path, test_env, **overrides):
    config = {
        "TESTING": False,
        "DEBUG": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.sqlite'}",
        "REDIS_URL": test_env["redis_url"],
    }
    config.update(overrides)
    return config


@pytest.fixture
def instance(tmp_path, monkeypatch):
    folder = tmp_path / "instance"
    monkeypatch.setenv("INSTANCE_PATH", str(folder))
    return folder


@pytest.mark.parametrize("key", ["dev-only-not-secret", "dev", "changeme", "short-key"])
def test_production_refuses_a_weak_secret_key(tmp_path, test_env, instance, key):
    with pytest.raises(RuntimeError, match="SECRET_KEY is a development or too-short key"):
        create_app(_config(tmp_path, test_env, SECRET_KEY=key))


def test_production_on_postgresql_refuses_to_start_without_a_secret_key(tmp_path, test_env, instance):
    config = _config(tmp_path, test_env, SECRET_KEY=None,
                     SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app(config)


def test_a_strong_secret_key_starts_the_app(tmp_path, test_env, instance):
    app = create_app(_config(tmp_path, test_env, SECRET_KEY="k" * 8 + "a-long-random-production-key"))
    assert app.config["SECRET_KEY"].endswith("production-key")


def test_testing_and_debug_accept_the_development_key(tmp_path, test_env, instance):
    assert create_app(_config(tmp_path, test_env, TESTING=True, SECRET_KEY="dev")).config["SECRET_KEY"] == "dev"
    assert create_app(_config(tmp_path, test_env, DEBUG=True, SECRET_KEY=None)).config["SECRET_KEY"]


def test_the_embedded_default_creates_a_private_secret_key_once_and_reuses_it(tmp_path, test_env, instance):
    first = create_app(_config(tmp_path, test_env, SECRET_KEY=None))
    key_file = instance / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 32
    second = create_app(_config(tmp_path, test_env, SECRET_KEY=None))
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_config_reads_the_environment_only_when_the_app_is_created(tmp_path, test_env, instance, monkeypatch):
    from booking_app.config import config_from_env

    values = config_from_env({"DATABASE_URL": "postgres://u@h/db", "SSE_HEARTBEAT_SECONDS": "3"})
    assert values["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert values["SSE_HEARTBEAT_SECONDS"] == 3
    with pytest.raises(RuntimeError, match="SMTP_PORT must be a whole number"):
        config_from_env({"SMTP_PORT": "lots"})
    assert config_from_env({})["WORKER_LOG_LEVEL"] == "WARNING"
    assert config_from_env({"WORKER_LOG_LEVEL": "info"})["WORKER_LOG_LEVEL"] == "INFO"
    with pytest.raises(RuntimeError, match="WORKER_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR"):
        config_from_env({"WORKER_LOG_LEVEL": "loud"})


def test_production_compiles_each_template_once_and_never_rechecks_it(tmp_path, test_env, instance, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = create_app({k: v for k, v in _config(tmp_path, test_env).items() if k != "DEBUG"}
                     | {"SECRET_KEY": "k" * 8 + "a-long-random-production-key"})
    assert app.debug is False
    assert app.jinja_env.auto_reload is False  # no stat() of every template file on every render
