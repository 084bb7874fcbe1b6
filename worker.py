"""Start an RQ worker (with its scheduler) that runs the app's jobs inside the app context."""

from __future__ import annotations

import os
import threading
import time

import redis
from rq import Queue, SimpleWorker

from booking_app import create_app
from booking_app.jobs import QUEUE_NAME, maybe_enqueue_sweep
from booking_app.processes import end_with_parent


def _sweep_timer(app, interval: int, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    while not stop.is_set():
        with app.app_context():
            try:
                maybe_enqueue_sweep(interval)
            except Exception:  # Redis away: try again next tick
                app.logger.warning("could not enqueue the sweep; retrying")
        stop.wait(interval)


def main(burst: bool = False, sweep_interval: int = 60) -> None:
    """Run the worker until SIGTERM (or until the queue is empty with burst)."""
    # The scheduler (and any other child RQ forks) ends with this worker, even when it is killed with -9.
    os.register_at_fork(after_in_child=lambda: end_with_parent(os.getppid()))
    app = create_app()
    stop = threading.Event()
    with app.app_context():
        # The worker blocks on Redis for long stretches: its connection must not time out reads.
        connection = redis.Redis.from_url(app.config["REDIS_URL"])
        if not burst:
            threading.Thread(target=_sweep_timer, args=(app, sweep_interval, stop), daemon=True).start()
        # SimpleWorker runs jobs in this process, so they share the pushed app context.
        worker = SimpleWorker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
        try:
            worker.work(burst=burst, with_scheduler=True)
        finally:
            stop.set()
            time.sleep(0)


if __name__ == "__main__":
    main()
