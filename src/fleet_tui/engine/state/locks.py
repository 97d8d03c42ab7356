"""One writer at a time: the fleet's state lock (an `fcntl.flock` on `.fleet/state.lock`,
re-entrant within a process) and the lock that lets one `up` or `down` run at a time."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from fleet_tui.engine.state.layout import Layout
from fleet_tui.errors import EnvironmentProblem

LOCK_TIMEOUT = 60.0  # seconds a writer waits for another one before saying who holds the lock


class _ProcessLock:
    """An flock held by this process, re-entrant for the thread that holds it.

    flock locks belong to an open file: a second open in the same process would wait for the first
    forever, so nested `with state_lock(...)` calls share one descriptor and count their depth; other
    threads of the process wait on the RLock first.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rlock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None


_LOCKS: dict[Path, _ProcessLock] = {}


_LOCKS_GUARD = threading.Lock()


PROBE_PATIENCE = 0.5  # seconds a lone holder waits out `lock_held` probes (each holds for microseconds)


def take_exclusive(fd: int, patience: float = PROBE_PATIENCE) -> bool:
    """Take an exclusive flock on `fd`, trying for `patience` seconds: False when another process
    kept it all that time. Even a caller that will not wait for a real holder tries for a moment:
    a `lock_held` probe holds the lock for an instant (else a `fleet-tui status` run at the wrong
    moment would make a starting supervisor think another one runs)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)


def _flock(path: Path, timeout: float, what: str) -> int:
    """Open `path` and take an exclusive flock on it, waiting at most `timeout` seconds."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot open the lock file {path}: {exc.strerror}",
            f"fleet-tui needs to write in {path.parent}: check its permissions and free space",
        ) from None
    if take_exclusive(fd, timeout):
        return fd
    os.close(fd)
    raise EnvironmentProblem(
        f"{what} is held by another fleet-tui process (lock file {path}) for over {timeout:g} s",
        "wait for it to finish, or find it with `fuser " + str(path) + "`",
    )


@contextlib.contextmanager
def state_lock(layout: Layout, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the fleet's state lock: one read-modify-write of state.json at a time, fleet-wide."""
    path = layout.lock_file.resolve()
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(path, _ProcessLock(path))
    if not lock.rlock.acquire(timeout=timeout):
        raise EnvironmentProblem(f"the state lock {path} is busy in this process for over {timeout:g} s")
    try:
        if lock.depth == 0:
            lock.fd = _flock(path, timeout, "the fleet's state")
        lock.depth += 1
        try:
            yield
        finally:
            lock.depth -= 1
            if lock.depth == 0 and lock.fd is not None:
                os.close(lock.fd)  # closing the descriptor releases the flock
                lock.fd = None
    finally:
        lock.rlock.release()


@contextlib.contextmanager
def up_lock(layout: Layout, timeout: float = 300.0) -> Iterator[None]:
    """Fleet-wide: one `up` (or `down`) at a time; a second one waits for the first to finish."""
    fd = _flock(layout.up_lock_file, timeout, "`fleet-tui up` (or `down`)")
    try:
        yield
    finally:
        os.close(fd)


def lock_held(path: Path, *, holder: Literal["shared", "exclusive"]) -> bool:
    """True when some process holds a flock on `path`, taken the way `holder` says.

    The probe takes the lock that conflicts with the holder's (exclusive against shared holders,
    shared against an exclusive one: two shared probes never see each other) and lets it go at once."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    probe = fcntl.LOCK_EX if holder == "shared" else fcntl.LOCK_SH
    try:
        fcntl.flock(fd, probe | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops the probe's lock if it got it
    return False
