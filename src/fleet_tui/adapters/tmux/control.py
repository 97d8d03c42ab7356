"""One long-lived tmux control-mode client per pane reader, for its read-only commands.

A tmux process per read costs the reader's process a fork and exec, the client ~2.4 ms of CPU and
the server a new connection; a control client (`tmux -C attach-session`) pays that once and then
answers each command line with one guarded block per command, on stdout:

    %begin <time> <number> <flags>      (flags 1: a command this client sent)
    ...the command's output, line by line, exactly as printed (never escaped)...
    %end|%error <time> <number> <flags> (the same three fields)

Lines between blocks are notifications (`%window-add ...`, `%exit`). A command that fails ends its
line: tmux drops the rest of the commands chained with it. Output is not escaped, so a pane screen
(agent text) may hold lines that look like guards; only the end guard with the begin's own time,
number and flags closes a block, numbers only grow, and the reader checks each block's content as
well. Anything doubtful (a line out of place, EOF, no reply in REPLY_TIMEOUT) raises ControlLost:
the caller drops the client and runs the command the old way, in a tmux process of its own.

Only reading commands ever go through it (tmux 3.3 has crashed on a paste into a dead pane; this
client attaches read-only and sends nothing else).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import subprocess
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence

from fleet_tui.adapters.tmux.client import client_env
from fleet_tui.errors import ExternalCommandFailed

REPLY_TIMEOUT = 3.0  # seconds for a whole reply; past that the client is killed
RETRY_FIRST = 5.0  # seconds before a new client is tried after one was lost or could not start...
RETRY_MAX = 60.0  # ...doubling up to this while clients keep failing
# ignore-size: the client never resizes the fleet's windows; no-output: no %output stream.
ATTACH_FLAGS = "ignore-size,no-output,read-only"
_GUARD = re.compile(r"%(begin|end|error) ([0-9]+) ([0-9]+) ([0-9]+)")
_UNQUOTABLE = ("'", "\n", "\r", "\0")  # single-quoted, tmux's parser would take these otherwise


class ControlLost(Exception):
    """The control client is gone, or its reply cannot be trusted."""


def control_line(commands: Sequence[Sequence[str]]) -> str | None:
    """The commands as one control-mode line, every argument single-quoted (tmux's parser then
    takes it byte for byte: no `$` or `~` expansion, `;` and `#` literal); None when an argument
    cannot be written that way, or when there is no command (an empty line detaches the client)."""
    words: list[str] = []
    for name, *args in commands:
        if any(mark in arg for arg in args for mark in _UNQUOTABLE):
            return None
        words += ([";"] if words else []) + [name] + [f"'{arg}'" for arg in args]
    return " ".join(words) or None


def _end(proc: subprocess.Popen[bytes]) -> None:
    """End the client: EOF on its stdin detaches it; killed if it does not go at once."""
    with contextlib.suppress(OSError, ValueError):
        if proc.stdin is not None:
            proc.stdin.close()
    try:
        proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ControlClient:
    """A `tmux -C attach-session` on the session; `run` sends one line and reads its blocks."""

    def __init__(self, socket: str, session: str) -> None:
        argv = ["tmux", "-L", socket, "-C", "attach-session", "-t", f"={session}", "-f", ATTACH_FLAGS]
        self.timeout = REPLY_TIMEOUT
        self.lock = threading.Lock()  # one command line at a time; replies come in order
        # Its own process session: a terminal's signals (Ctrl-C, hangup) are not for it, and it
        # ends on EOF when this process dies, however that happens.
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=client_env(), start_new_session=True,
        )  # fmt: skip
        self._finalizer = weakref.finalize(self, _end, self.proc)  # a reader never closed ends it too
        assert self.proc.stdout is not None
        self._out = self.proc.stdout.fileno()
        self._poll = select.poll()  # not select(): a busy process may hold fds past FD_SETSIZE
        self._poll.register(self._out, select.POLLIN)
        self._lines: deque[bytes] = deque()
        self._partial = b""
        self._last = -1  # the number of the last block: numbers only grow

    def start(self) -> None:
        """Wait for the attach's own block (flags 0): ControlLost if it failed (no such session)."""
        with self.lock:
            _, ok = self._block(time.monotonic() + self.timeout, flags="0")
        if not ok:
            raise ControlLost("the control client could not attach")

    def run(self, line: str, commands: Sequence[Sequence[str]]) -> list[list[str]]:
        """Send `line` (the `commands`, from control_line) and return each command's output lines.
        ExternalCommandFailed when tmux refused one (as a tmux process would fail); ControlLost
        when the reply cannot be trusted."""
        with self.lock:
            if self.proc.poll() is not None or self.proc.stdin is None:
                raise ControlLost("the control client has ended")
            try:
                self.proc.stdin.write(line.encode() + b"\n")
                self.proc.stdin.flush()
            except (OSError, ValueError) as exc:
                raise ControlLost(f"the control client has ended: {exc}") from None
            deadline = time.monotonic() + self.timeout
            blocks: list[list[str]] = []
            for name, *_ in commands:
                body, ok = self._block(deadline, flags="1")
                if not ok and body[:1] and body[0].startswith("parse error"):
                    raise ControlLost(f"tmux could not parse the line: {body[0]}")  # never ours to report
                if not ok:
                    raise ExternalCommandFailed(f"tmux {name} failed: {'; '.join(body) or 'error'}")
                blocks.append(body)
            return blocks

    def _block(self, deadline: float, flags: str) -> tuple[list[str], bool]:
        """The next block's lines and whether it ended in %end (else %error)."""
        while True:
            line = self._line(deadline)
            guard = _GUARD.fullmatch(line)
            if guard is not None and guard[1] == "begin":
                break
            if guard is not None or not line.startswith("%"):
                raise ControlLost(f"control client: {line[:60]!r} outside a reply")
            if line == "%exit" or line.startswith("%exit "):
                raise ControlLost("the control client was detached")
            # any other notification: nothing a read needs
        stamp, number, got = guard.group(2, 3, 4)
        if got != flags or int(number) <= self._last:
            raise ControlLost(f"control client: unexpected block {line!r}")
        self._last = int(number)
        body: list[str] = []
        while True:
            line = self._line(deadline)
            end = _GUARD.fullmatch(line)
            if end is not None and end[1] != "begin" and end.group(2, 3, 4) == (stamp, number, got):
                return body, end[1] == "end"
            body.append(line)

    def _line(self, deadline: float) -> str:
        while not self._lines:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ControlLost("the control client gave no reply in time")
            if not self._poll.poll(left * 1000):
                continue
            chunk = os.read(self._out, 1 << 16)
            if not chunk:
                raise ControlLost("the control client has ended")
            *lines, self._partial = (self._partial + chunk).split(b"\n")
            self._lines.extend(lines)
        return self._lines.popleft().decode("utf-8", "backslashreplace")

    def close(self) -> None:
        """End the client process and free its pipes (a read in another thread ends with EOF)."""
        self._finalizer()
        with self.lock:
            if self.proc.stdout is not None:
                self.proc.stdout.close()


class Control:
    """A reader's control client: started on first use, replaced after it is lost, never in a
    tight loop (RETRY_FIRST, doubling to RETRY_MAX while clients keep failing)."""

    def __init__(self, socket: str, session: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.socket, self.session, self.clock = socket, session, clock
        self.client: ControlClient | None = None
        self.started = 0.0
        self._next_try = 0.0
        self._wait = RETRY_FIRST
        self._closed = False
        self.lost = 0  # clients dropped so far (tests read it)

    def run(self, commands: Sequence[Sequence[str]]) -> list[list[str]] | None:
        """Each command's output lines; None: no client now (or it was just lost), run them the
        old way. ExternalCommandFailed when tmux refused a command."""
        line = control_line(commands)
        client = (self.client or self._start()) if line is not None else None
        if line is None or client is None:
            return None
        try:
            return client.run(line, commands)
        except ControlLost:
            self.drop()
            return None

    def _start(self) -> ControlClient | None:
        now = self.clock()
        if self._closed or now < self._next_try:
            return None
        client: ControlClient | None = None
        try:
            client = ControlClient(self.socket, self.session)
            client.start()
        except (OSError, ControlLost):
            if client is not None:
                client.close()
            self._later(now)
            return None
        if self._closed:  # closed meanwhile, from another thread
            client.close()
            return None
        self.client, self.started = client, now
        return client

    def drop(self) -> None:
        """End the client (lost, or its reply was doubtful); a new one is tried later."""
        if self.client is not None:
            self.client.close()
            self.client = None
            self.lost += 1
            now = self.clock()
            if now - self.started >= RETRY_MAX:  # it served a good while: not a failing streak
                self._wait = RETRY_FIRST
            self._later(now)

    def _later(self, now: float) -> None:
        self._next_try = now + self._wait
        self._wait = min(self._wait * 2, RETRY_MAX)

    def close(self) -> None:
        """End the client for good: this reader reads the old way from now on."""
        self._closed = True
        if self.client is not None:
            self.client.close()
            self.client = None
