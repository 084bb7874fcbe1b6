"""Child processes that end with their parent: servers and workers started by the app never outlive it."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


def end_with_parent(parent: int | None = None) -> None:
    """Ask the kernel to send this process SIGTERM when its parent dies (Linux; elsewhere nothing happens)."""
    libc = _libc()
    if libc is None:
        return
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent is not None and os.getppid() != parent:  # the parent died before we asked
        os._exit(1)


def die_with_parent() -> Callable[[], None]:
    """Return a pre-exec hook for subprocess.Popen that makes the child end with the calling process."""
    parent = os.getpid()
    return lambda: end_with_parent(parent)
