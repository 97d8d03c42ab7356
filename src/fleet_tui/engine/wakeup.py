"""Wake-ups from the supervisor to the dashboards that follow it.

A dashboard used to look at `.fleet/snapshot.json` four times a second: a change waited 125 ms on
average before it was even seen, and an idle dashboard woke 4 times a second for nothing. Now each
following dashboard listens on a Unix datagram socket (in a short temporary folder of its own:
socket paths are limited to ~100 bytes) and names it in `.fleet/viewers/`; the supervisor sends
every socket named there one byte right after it published a snapshot. A dashboard then looks at
the files when woken, and about once a second for the heartbeat. Where sockets cannot be made, it
polls as before.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import shutil
import socket
import tempfile
from pathlib import Path

from fleet_tui.engine.state import Layout, write_atomic

VIEWERS = "viewers"  # folder in .fleet/: one file per listening dashboard, holding its socket's path


class Listener:
    """One dashboard's end: `wait` returns True when the supervisor published (or `poke` was called)."""

    def __init__(self, layout: Layout) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="fleet-wake-"))
        self.address = str(self._folder / "s")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._sock.bind(self.address)
            self._sock.setblocking(False)
            self.entry = layout.state_dir / VIEWERS / f"{os.getpid()}-{secrets.token_hex(4)}"
            write_atomic(self.entry, self.address + "\n")
        except OSError:
            self.close()
            raise

    def wait(self, timeout: float) -> bool:
        """Block until woken or `timeout` seconds passed; every wake-up waiting is taken at once."""
        ready, _, _ = select.select([self._sock], [], [], timeout)
        if not ready:
            return False
        with contextlib.suppress(OSError):
            while self._sock.recv(16):
                pass
        return True

    def poke(self) -> None:
        """Wake `wait` from this process (the app closes, the person selected another agent)."""
        _send(self.address)

    def close(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self.entry.unlink(missing_ok=True)
        self._sock.close()
        shutil.rmtree(self._folder, ignore_errors=True)


def listen(layout: Layout) -> Listener | None:
    """A listener for this fleet's supervisor; None where Unix sockets cannot be made."""
    try:
        return Listener(layout)
    except OSError:
        return None


def _send(address: str) -> bool:
    """One byte to a listener; False when nobody listens there any more."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        try:
            sock.sendto(b"!", address)
        except BlockingIOError:
            return True  # its queue is full of wake-ups already: it will look
        except OSError:
            return False
    return True


def wake_viewers(layout: Layout) -> int:
    """Wake every listening dashboard of the fleet (the supervisor, after each publish); entries
    whose dashboard is gone (killed without closing) are removed. Returns how many were woken."""
    try:
        entries = list((layout.state_dir / VIEWERS).iterdir())
    except OSError:
        return 0
    woken = 0
    for entry in entries:
        try:
            address = entry.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if address and _send(address):
            woken += 1
        else:
            entry.unlink(missing_ok=True)
    return woken
