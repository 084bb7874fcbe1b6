"""Effects survive a dying worker: a stale claim runs again within a minute, and a mail is never sent twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from booking_app.extensions import db
from booking_app.models import Effect
from booking_app.services import effects
from tests.conftest import Inbox, free_port
from tests.services.test_mail import NOW, _queue, lesson  # noqa: F401 (the lesson fixture)

ROOT = Path(__file__).resolve().parents[2]
CALLS: list[dict] = []


@pytest.fixture(autouse=True)
def _recording_handler():
    effects.register("test.faults", CALLS.append)
    CALLS.clear()
    yield
    effects.HANDLERS.pop("test.faults", None)


def _effect(effect_id: int) -> Effect:
    db.session.expire_all()
    effect = db.session.get(Effect, effect_id)
    assert effect is not None
    return effect


def test_an_effect_claimed_by_a_worker_that_died_runs_again_within_a_minute(app):
    app.config["FROZEN_NOW"] = NOW
    effect_id = effects.schedule("test.faults", {"n": 1}).id
    db.session.commit()
    # A worker claimed it, then died without finishing.
    db.session.execute(sa.update(Effect).where(Effect.id == effect_id).values(claimed_at=NOW, attempts=1))
    db.session.commit()
    assert effects.run_due(NOW + timedelta(seconds=20)) == 0  # a live worker may still be on it
    assert CALLS == []
    assert effects.run_due(NOW + timedelta(seconds=31)) == 1
    assert CALLS == [{"n": 1}]
    assert _effect(effect_id).done_at is not None
    assert timedelta(seconds=30) >= effects.CLAIM_TIMEOUT  # with the 30-second sweep: again within a minute


class SlowInbox(Inbox):
    """Keeps each mail, then waits before saying 250: the moment a sender may die after the server has it."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        result = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(4)
        return result


def test_a_worker_killed_while_the_server_takes_the_mail_does_not_send_it_twice(app, lesson, test_env):  # noqa: F811
    handler = SlowInbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _queue(lesson.student_id, "booking_confirmed", lesson.id)
        effect_id = db.session.scalar(sa.select(Effect.id))
        db.session.commit()
        env = dict(os.environ, DATABASE_URL=test_env["database_url"], REDIS_URL=test_env["redis_url"],
                   INSTANCE_PATH=test_env["instance"], SECRET_KEY="effects-fault-test-key-0123456789",
                   SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TLS="none", SMTP_FROM="Studio <studio@example.test>")
        script = (
            "from datetime import datetime; from booking_app import create_app; from booking_app.services import effects\n"
            f"app = create_app()\nwith app.app_context(): effects.run_effect({effect_id}, datetime.fromisoformat('{NOW.isoformat()}'))\n"
        )
        worker = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while not handler.messages:
            assert worker.poll() is None and time.monotonic() < deadline, "the mail never reached the server"
            time.sleep(0.05)
        worker.kill()  # the server has the mail; the sender dies before it hears 250
        worker.wait(timeout=10)
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none",
                          SMTP_FROM="Studio <studio@example.test>")
        effects.run_due(NOW + effects.CLAIM_TIMEOUT + timedelta(seconds=1))  # the next attempt
        time.sleep(0.5)
        assert len(handler.messages) == 1
        assert handler.messages[0]["Message-ID"] == f"<effect-{effect_id}.booking_confirmed@example.test>"
        assert _effect(effect_id).done_at is not None
    finally:
        controller.stop()


def test_a_mail_keeps_one_message_id_across_attempts(app, lesson, tmp_path):  # noqa: F811
    app.config.update(SMTP_HOST=None, OUTBOX_DIR=str(tmp_path / "outbox"))
    _queue(lesson.student_id, "booking_confirmed", lesson.id)
    effect_id = db.session.scalar(sa.select(Effect.id))
    assert effects.run_effect(effect_id, NOW)
    [path] = list((tmp_path / "outbox").iterdir())
    assert f"Message-ID: <effect-{effect_id}.booking_confirmed@localhost>" in path.read_text()  # the sender's domain
