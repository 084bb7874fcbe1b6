"""Start an RQ worker (with its scheduler) that runs the app's jobs inside the app context."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import redis
from rq import Queue, SimpleWorker

from booking_app import create_app
from booking_app.jobs import QUEUE_NAME, maybe_enqueue_sweep
from booking_app.processes import end_with_parent

log = logging.getLogger("worker")
RECONNECT_MAX_SECONDS = 30.0


class Worker(SimpleWorker):
    """RQ's in-process worker that remembers whether it was asked to stop (SIGTERM, Ctrl-C)."""

    stop_signalled = False

    def request_stop(self, signum: Any, frame: Any) -> None:
        Worker.stop_signalled = True
        super().request_stop(signum, frame)


def _sweep_timer(app, interval: int, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    while not stop.is_set():
        with app.app_context():
            try:
                maybe_enqueue_sweep(interval)
            except Exception:  # Redis away: try again next tick
                app.logger.warning("could not enqueue the sweep; retrying")
        stop.wait(interval)


def _wait_for_redis(url: str, stop: threading.Event) -> None:
    """Block until Redis answers again, backing off up to RECONNECT_MAX_SECONDS between tries."""
    delay = 0.5
    while not stop.is_set() and not Worker.stop_signalled:
        try:
            if redis.Redis.from_url(url, socket_connect_timeout=2).ping():
                return
        except redis.RedisError as exc:
            log.warning("Redis is unreachable (%s); trying again in %.1f s", exc, delay)
        time.sleep(delay)
        delay = min(delay * 2, RECONNECT_MAX_SECONDS)


def main(burst: bool = False, sweep_interval: int = 30) -> None:
    """Run the worker until SIGTERM (or until the queue is empty with burst); outlive Redis outages."""
    # The scheduler (and any other child RQ forks) ends with this worker, even when it is killed with -9.
    os.register_at_fork(after_in_child=lambda: end_with_parent(os.getppid()))
    app = create_app()
    stop = threading.Event()
    url = app.config["REDIS_URL"]
    with app.app_context():
        if not burst:
            threading.Thread(target=_sweep_timer, args=(app, sweep_interval, stop), daemon=True).start()
        try:
            while not Worker.stop_signalled:
                # The worker blocks on Redis for long stretches: its connection must not time out reads.
                connection = redis.Redis.from_url(url)
                # SimpleWorker runs jobs in this process, so they share the pushed app context.
                worker = Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
                try:
                    worker.work(burst=burst, with_scheduler=True, logging_level=app.config["WORKER_LOG_LEVEL"])
                except (redis.ConnectionError, redis.TimeoutError) as exc:
                    log.warning("the worker lost Redis (%s)", exc)
                if burst or Worker.stop_signalled:
                    break
                # RQ gives up when Redis drops mid-job; wait for it and start again, jobs are idempotent.
                _wait_for_redis(url, stop)
        finally:
            stop.set()
            time.sleep(0)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    main()
