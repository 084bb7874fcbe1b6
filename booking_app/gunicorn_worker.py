"""The gunicorn worker the Procfile runs: gunicorn's gevent worker, accepting new connections in batches.

With more than one worker, gunicorn's gevent worker accepts ONE connection each time the event loop polls
the listening socket, to spread connections over the workers. A busy worker polls once per round of its
ready greenlets (each runs a request before it yields), so 50 connections opened together waited up to
50 rounds (0.4 s each on this machine): the first request of the last ones took 5-9 s. Accepting up to
ACCEPT_PER_WAKEUP at a time keeps the spread (a batch is far smaller than one worker's 1,000 connections)
and lets a new visitor in within a round or two.
"""

from __future__ import annotations

from typing import Any

from gevent.server import StreamServer
from gunicorn.workers import ggevent

ACCEPT_PER_WAKEUP = 16


class BatchAcceptServer(StreamServer):
    """A StreamServer whose max_accept stays ACCEPT_PER_WAKEUP whatever gunicorn sets."""

    @property  # type: ignore[override]
    def max_accept(self) -> int:
        return ACCEPT_PER_WAKEUP

    @max_accept.setter
    def max_accept(self, _value: Any) -> None:
        pass


class GeventWorker(ggevent.GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker (monkey-patched, 1,000 connections each) with batched accepts."""

    def run(self) -> None:
        ggevent.StreamServer = BatchAcceptServer  # the name run() builds its servers from, in this process
        super().run()
