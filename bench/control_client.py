"""The benchmark's eye on its terminal: a tmux control-mode client of the terminal's tmux server.

Waiting for the screen to change by running `tmux capture-pane` every few milliseconds costs a
tmux process and a capture per look, back to back: most of a core of a 2-core machine, which the
dashboard then competed with and the latency figures measured. A control client is told of each
write the dashboard makes to its terminal (`%output`), so the screen is read once per write, and
keys go through the same connection. The figure is the same one (until the captured screen differs
or shows what is waited for), without the load of looking.

Not the product's reader (src/fleet_tui/adapters/tmux/control.py): that one attaches read-only with
`no-output` and skips notifications, which is right for reading panes; this one needs the `%output`
stream, sends keys, and so must drain its stdout all the time (tmux stops reading a pane whose output
a control client has not taken).
"""

from __future__ import annotations

import os
import queue
import shlex
import subprocess
import threading
import time
from collections.abc import Callable


class ControlClient:
    def __init__(self, socket: str, session: str) -> None:
        self.session = session
        self._proc = subprocess.Popen(
            ["tmux", "-L", socket, "-C", "attach-session", "-t", f"={session}", "-f", "ignore-size"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
        )  # fmt: skip
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._in = self._proc.stdin
        # Read all the time: tmux stops reading a pane whose output a control client has not taken
        # (the dashboard would then block on its terminal), so a thread drains it into a queue.
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(self._proc.stdout.fileno(),), daemon=True).start()
        self._outputs = 0  # %output notifications seen and not yet looked at
        self._reply("attach-session", time.monotonic() + 10)  # tmux answers the attach first
        if self.command("display-message", "-p", "ready") != ["ready"]:
            raise SystemExit("bench: the terminal's tmux control client answers out of turn")

    def close(self) -> None:
        if self._proc.poll() is None:
            self._in.close()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def _pump(self, fd: int) -> None:
        buffer = b""
        while chunk := os.read(fd, 65536):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                self._lines.put(line)
        self._lines.put(None)

    def _line(self, deadline: float) -> bytes | None:
        """The next line from tmux, or None at the deadline."""
        try:
            line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None
        if line is None:
            raise SystemExit("bench: the terminal's tmux control client ended")
        return line

    def _note(self, line: bytes) -> None:
        if line.startswith(b"%output "):
            self._outputs += 1

    def command(self, *args: str, timeout: float = 10.0) -> list[str]:
        """Run one tmux command; its output lines (notifications in between are noted)."""
        self._in.write((" ".join(shlex.quote(a) for a in args) + "\n").encode())
        return self._reply(args[0], time.monotonic() + timeout)

    def _reply(self, what: str, deadline: float) -> list[str]:
        """The next reply block's lines (tmux answers commands in order, one block each)."""
        lines: list[str] = []
        inside = False
        while True:
            line = self._line(deadline)
            if line is None:
                raise SystemExit(f"bench: tmux did not answer {what} in time")
            if not inside:
                if line.startswith(b"%begin "):
                    inside = True
                else:
                    self._note(line)
                continue
            if line.startswith((b"%end ", b"%error ")):
                if line.startswith(b"%error "):
                    raise SystemExit(f"bench: tmux refused {what}: {lines}")
                return lines
            lines.append(line.decode("utf-8", "replace"))

    def screen(self, colours: bool = False) -> str:
        lines = self.command("capture-pane", "-p", *(["-e"] if colours else []), "-t", self.session)
        return "\n".join(lines)

    def keys(self, *keys: str) -> None:
        self.command("send-keys", "-t", self.session, *keys)

    def wait_screen(self, check: Callable[[str], bool], timeout: float, colours: bool = False) -> str | None:
        """The screen once `check` holds, read after each write to the terminal; None at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self._outputs = 0
            screen = self.screen(colours)
            if check(screen):
                return screen
            while not self._outputs:  # wait for the next write (writes while capturing count)
                line = self._line(deadline)
                if line is None:
                    return None
                self._note(line)
            # a frame may come in several writes: take what has arrived already before looking
            while not self._lines.empty() and (line := self._line(time.monotonic())) is not None:
                self._note(line)
