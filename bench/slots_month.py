"""Time GET /api/instructors/{id}/slots in-process for a dense month: 15-minute slots 06:00-22:00 every day.

Usage: .venv/bin/python bench/slots_month.py   (BENCH_REDIS_URL to use a Redis server; default the embedded one)
Prints the slot count and the median and best of 30 requests.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import time as wall
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="booking-slots-month-")
    os.environ["INSTANCE_PATH"] = tmp
    from flask_migrate import upgrade

    from booking_app import create_app
    from booking_app.extensions import db
    from booking_app.models import WeeklyWindow
    from booking_app.redis_conn import start_embedded_redis
    from booking_app.services.sessions import issue_token
    from booking_app.services.studio import get_studio
    from booking_app.services.users import create_user

    redis_url = os.environ.get("BENCH_REDIS_URL") or start_embedded_redis(str(Path(tmp) / "redis"))
    app = create_app({"TESTING": True, "SECRET_KEY": "bench-secret-key-0123456789abcdef", "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite", "REDIS_URL": redis_url})
    try:
        with app.app_context():
            upgrade()
            teacher = create_user(email="t@bench.test", name="Bench Teacher", password="bench-password",
                                  role="instructor", timezone="Europe/London")
            assert teacher.instructor_settings is not None
            teacher.instructor_settings.min_notice_minutes = 0
            db.session.add_all(WeeklyWindow(instructor_id=teacher.id, weekday=day, start_time=wall(6),
                                            end_time=wall(22), lesson_minutes=15) for day in range(1, 8))
            studio = get_studio()
            studio.horizon, studio.horizon_days = "days", 60
            db.session.commit()
            headers = {"Authorization": f"Bearer {issue_token(teacher)}"}
            start = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400 * 2))
            end = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400 * 31))
            url = f"/api/instructors/{teacher.id}/slots?start={start}&end={end}"
            client = app.test_client()
            count = len(client.get(url, headers=headers).get_json()["slots"])
            times = []
            for _ in range(30):
                started = time.perf_counter()
                client.get(url, headers=headers)
                times.append(time.perf_counter() - started)
            print(f"slots API, one month of {count} slots: median {statistics.median(times) * 1000:.1f} ms, "
                  f"best {min(times) * 1000:.1f} ms (load {os.getloadavg()[0]:.1f})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
