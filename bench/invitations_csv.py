"""Time a 500-person CSV invitation: the preview (read and check every row) and the all-or-nothing import.

SQLite always; PostgreSQL too when BENCH_DATABASE_URL is set (its schema is dropped and rebuilt).
Run: .venv/bin/python bench/invitations_csv.py   (BENCH_RUNS, default 5, imports per database)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as `python bench/invitations_csv.py` from anywhere: make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _databases import on_each_database  # noqa: E402 (bench/ is the script's own folder)

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
ROWS = 500


def csv_of(run: int) -> bytes:
    lines = [f"Person {i},p{run}-{i}@bench.test,student,Europe/Berlin" for i in range(ROWS)]
    return ("name,email,role,timezone\n" + "\n".join(lines) + "\n").encode()


def run(database_url: str, redis_url: str, label: str) -> None:
    from flask_migrate import upgrade

    from booking_app import create_app
    from booking_app.extensions import db
    from booking_app.services import invitations
    from booking_app.services.users import create_user

    os.environ["INSTANCE_PATH"] = tempfile.mkdtemp(prefix="bench-inv-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench-secret-key-0123456789abcdef"})
    previews, imports = [], []
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade()
        owner = create_user(email="owner@bench.test", name="Olga Owner", password="bench password", role="owner",
                            timezone="Europe/Berlin")
        for n in range(RUNS):
            started = time.perf_counter()
            preview = invitations.preview_csv(owner, csv_of(n))
            previews.append((time.perf_counter() - started) * 1000)
            assert preview.ready
            started = time.perf_counter()
            sent = invitations.import_csv(owner, preview.payload)  # checks every row again, then writes
            imports.append((time.perf_counter() - started) * 1000)
            assert len(sent) == ROWS
        db.engine.dispose()
    print(f"{label}: {ROWS} rows, median of {RUNS}: preview {statistics.median(previews):.0f} ms, "
          f"import {statistics.median(imports):.0f} ms")


def main() -> None:
    on_each_database(run, "bench-inv-")


if __name__ == "__main__":
    main()
