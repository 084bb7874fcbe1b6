"""Flask CLI: users, API tokens, demo data, the sweep, and a one-command local start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .services import ServiceError, invitations

users_cli = AppGroup("users", help="Manage user accounts.")
jobs_cli = AppGroup("jobs", help="Run background work by hand.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["owner", "instructor", "student"]), default="student", show_default=True)
@click.option("--password", required=True)
@click.option("--timezone", "timezone_", default="UTC", show_default=True)
def create_user_command(email: str, name: str, role: str, password: str, timezone_: str) -> None:
    """Create a user and print its id alone on stdout."""
    from .services.users import create_user

    try:
        user = create_user(email=email, name=name, password=password, role=role, timezone=timezone_)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(user.id)


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", help="A label to recognise the token by.")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None, help="Days until it stops working.")
def token_command(email: str, name: str, expires_days: int | None) -> None:
    """Issue an API token for a user and print it alone on stdout."""
    from .services.sessions import issue_token

    click.echo(issue_token(_user_by_email(email), name, expires_in_days=expires_days))


@users_cli.command("revoke-tokens")
@click.argument("email")
def revoke_tokens_command(email: str) -> None:
    """Revoke every API token of a user and print how many were revoked."""
    from .services.sessions import revoke_all_tokens

    click.echo(revoke_all_tokens(_user_by_email(email)))


@users_cli.command("invite")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["owner", "instructor", "student"]), required=True)
@click.option("--timezone", "timezone_", default=None, help="IANA zone of the new account (default UTC).")
def invite_command(email: str, name: str, role: str, timezone_: str | None) -> None:
    """Invite a person (the invitation is mailed too) and print the invitation link alone on stdout."""
    try:
        sent = invitations.invite(None, email=email, name=name, role=role, timezone=timezone_)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(sent.url)


def _user_by_email(email: str):  # type: ignore[no-untyped-def]
    from .services.users import find_user_by_email

    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user has the email {email}.")
    return user


@jobs_cli.command("sweep")
def sweep_command() -> None:
    """Run the expiry / completion / reminder sweep once."""
    from .services.maintenance import sweep

    counts = sweep()
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()), err=True)


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Build the demo studio (idempotent)."""
    from .services.demo import seed_demo

    summary = seed_demo()
    click.echo(summary)


@click.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--seed/--no-seed", default=True, show_default=True, help="Load the demo studio.")
def up_command(host: str, port: int, seed: bool) -> None:
    """Migrate, seed the demo studio and run web + worker (+ embedded Redis) until Ctrl-C."""
    from flask_migrate import upgrade

    from .processes import die_with_parent
    from .redis_conn import start_embedded_redis, stop_embedded_redis
    from .services.demo import DEMO_PASSWORD, seed_demo

    embedded = bool(current_app.config.get("REDIS_EMBEDDED"))
    if embedded:
        # This process owns the server: it stops when `up` stops, however it stops.
        current_app.config["REDIS_URL"] = start_embedded_redis(current_app.instance_path)
    upgrade()
    if seed:
        seed_demo()
    env = dict(os.environ)
    env["REDIS_URL"] = current_app.config["REDIS_URL"]
    env["BASE_URL"] = f"http://{host}:{port}"

    def start(command: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, env=env, preexec_fn=die_with_parent())

    web = start([sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1",
                 "--worker-connections", "1000", "--no-control-socket", "--bind", f"{host}:{port}", "wsgi:app"])
    worker = start([sys.executable, "worker.py"])
    click.echo(f"\n  The studio is open at http://{host}:{port}\n")
    click.echo(f"  Demo sign-ins (password {DEMO_PASSWORD}):")
    click.echo("    owner       owner@demo.studio")
    click.echo("    instructors maria@demo.studio, james@demo.studio, aiko@demo.studio")
    click.echo("    students    sam@demo.studio (and five more)\n  Ctrl-C stops everything.\n")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and web.poll() is None:
            if worker.poll() is not None:
                # Mails, expiries and reminders wait for the worker: bring it back.
                click.echo(f"  The worker stopped (exit {worker.returncode}); starting it again.", err=True)
                time.sleep(1)
                worker = start([sys.executable, "worker.py"])
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in (web, worker):
            if proc.poll() is None:
                proc.terminate()
        for proc in (web, worker):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if embedded:
            stop_embedded_redis(current_app.instance_path)


def register_cli(app: Flask) -> None:
    """Add the commands to `flask --app wsgi …`."""
    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(up_command)
