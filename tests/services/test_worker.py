"""Background work: effects run by a real RQ worker through real Redis, once, on time, with retries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from booking_app import jobs
from booking_app.extensions import db
from booking_app.models import Effect, utcnow
from booking_app.services import effects

ROOT = Path(__file__).resolve().parents[2]
CALLS: list[dict] = []


@effects.handler("test.record")
def _record(payload: dict) -> None:
    CALLS.append(payload)


@effects.handler("test.flaky")
def _flaky(payload: dict) -> None:
    CALLS.append(payload)
    if len(CALLS) == 1:
        raise RuntimeError("the mail server is down")


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()
    yield
    CALLS.clear()


def _queue(redis_client) -> Queue:
    return Queue(jobs.QUEUE_NAME, connection=redis_client)


def _work(redis_client) -> None:
    SimpleWorker([_queue(redis_client)], connection=redis_client).work(burst=True)


def _effect(effect_id: int) -> Effect:
    db.session.expire_all()
    effect = db.session.get(Effect, effect_id)
    assert effect is not None
    return effect


def test_a_committed_effect_is_run_by_a_real_worker(app, redis_client):
    effect_id = effects.schedule("test.record", {"booking_id": 4}).id
    assert _queue(redis_client).count == 0  # nothing is enqueued before the commit
    db.session.commit()
    assert _queue(redis_client).job_ids == [f"effect-{effect_id}"]
    _work(redis_client)
    assert CALLS == [{"booking_id": 4}]
    effect = _effect(effect_id)
    assert effect.done_at is not None and effect.attempts == 1 and effect.last_error == ""


def test_a_rolled_back_effect_is_neither_stored_nor_enqueued(app, redis_client):
    effects.schedule("test.record", {"booking_id": 4})
    db.session.rollback()
    db.session.commit()
    assert _queue(redis_client).count == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Effect)) == 0


def test_running_an_effect_twice_runs_its_handler_once(app, redis_client):
    effect = effects.schedule("test.record", {"n": 1})
    db.session.commit()
    effect_id, due_at = effect.id, effect.due_at
    _work(redis_client)
    jobs.enqueue_effect(effect_id, due_at)  # a duplicate wake-up
    _work(redis_client)
    assert jobs.run_effect_job(effect_id) is False
    assert CALLS == [{"n": 1}]
    assert _effect(effect_id).attempts == 1


def test_an_effect_due_later_is_not_run_early(app, redis_client):
    now = utcnow()
    effect_id = effects.schedule("test.record", {"n": 1}, due_at=now + timedelta(hours=1)).id
    db.session.commit()
    assert _queue(redis_client).count == 0  # parked in RQ's scheduled registry, not ready
    assert f"effect-{effect_id}" in _queue(redis_client).scheduled_job_registry.get_job_ids()
    _work(redis_client)
    assert effects.run_effect(effect_id, now) is False
    assert effects.run_due(now) == 0
    assert CALLS == []
    assert effects.run_due(now + timedelta(hours=1, seconds=1)) == 1
    assert CALLS == [{"n": 1}]


@pytest.mark.app_config(EFFECTS_RAISE=False)
def test_a_failing_effect_keeps_its_error_and_is_retried_later(app, redis_client):
    effect_id = effects.schedule("test.flaky", {"n": 1}).id
    db.session.commit()
    _work(redis_client)
    effect = _effect(effect_id)
    assert effect.done_at is None and effect.claimed_at is None
    assert "the mail server is down" in effect.last_error and effect.attempts == 1
    assert effects.run_due() == 1  # the sweep's retry
    effect = _effect(effect_id)
    assert effect.done_at is not None and effect.attempts == 2 and effect.last_error == ""
    assert CALLS == [{"n": 1}, {"n": 1}]


def test_an_effect_without_a_handler_is_not_marked_done(app, redis_client):
    app.config["EFFECTS_RAISE"] = False
    effect_id = effects.schedule("test.nobody-handles-this", {}).id
    db.session.commit()
    _work(redis_client)
    effect = _effect(effect_id)
    assert effect.done_at is None and "no handler" in effect.last_error


def test_the_sweep_is_enqueued_once_per_interval(app, redis_client):
    assert jobs.maybe_enqueue_sweep(60) is True
    assert jobs.maybe_enqueue_sweep(60) is False
    assert jobs.maybe_enqueue_sweep(60) is False
    assert _queue(redis_client).count == 1
    assert 0 < redis_client.ttl(jobs.SWEEP_LOCK) <= 60
    redis_client.delete(jobs.SWEEP_LOCK)  # the interval has passed
    assert jobs.maybe_enqueue_sweep(60) is True
    assert _queue(redis_client).count == 2


def test_the_sweep_job_runs_due_effects_through_the_worker(app, redis_client):
    effect_id = effects.schedule("test.record", {"n": 9}).id
    db.session.commit()
    _queue(redis_client).empty()  # the wake-up was lost
    jobs.maybe_enqueue_sweep(60)
    _work(redis_client)
    assert CALLS == [{"n": 9}]
    assert _effect(effect_id).done_at is not None


def test_worker_py_runs_jobs_and_stops_cleanly_on_sigterm(app, test_env, redis_client, tmp_path):
    env = dict(os.environ)
    env.update(DATABASE_URL=test_env["database_url"], REDIS_URL=test_env["redis_url"],
               INSTANCE_PATH=test_env["instance"], SECRET_KEY="worker-test-secret-key-0123456789")
    log = tmp_path / "worker.log"
    proc = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    try:
        job = _queue(redis_client).enqueue(jobs.sweep)
        deadline = time.monotonic() + 30
        while job.get_status(refresh=True) not in (JobStatus.FINISHED, JobStatus.FAILED):
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, f"the job did not run: {log.read_text()[-2000:]}"
            time.sleep(0.1)
        job = Job.fetch(job.id, connection=redis_client)
        assert job.get_status() == JobStatus.FINISHED, log.read_text()[-2000:]
        assert "effects" in job.return_value()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_app_registers_every_handler_and_sweep_step_and_its_waker(app):
    from booking_app.services import maintenance

    assert {"mail", "booking.expire", "auto_decline"} <= effects.HANDLERS.keys()
    assert list(maintenance.SWEEP_STEPS) == ["expire_pending", "complete_lessons", "reminders"]
    assert app.extensions["wake_effect"] is jobs.enqueue_effect
