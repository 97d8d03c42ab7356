"""Is somebody looking at a fleet? An open dashboard holds a shared lock on a file in `.fleet/`.

The lock goes with the process (the kernel drops it when the dashboard ends, however it ends), so
there is no stale pid file to clean up. `demo --clean` asks before deleting a demo in use.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = "dashboard.lock"


@contextlib.contextmanager
def dashboard_open(state_dir: Path) -> Iterator[None]:
    """Hold the fleet's dashboard lock (shared: several dashboards may be open) while inside."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield  # an unwritable .fleet/ must not keep the dashboard from opening
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def dashboard_is_open(state_dir: Path) -> bool:
    """True while some process holds the dashboard lock of this fleet."""
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops the exclusive lock if we got it
    return False
