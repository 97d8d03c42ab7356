"""The one module that talks to tmux, always on the fleet's own socket.

Reads are batched: one tmux client per tick lists the panes and captures every screen.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import libtmux
from libtmux.exc import LibTmuxException

from fleet_tui.errors import EnvironmentProblem, ExternalCommandFailed
from fleet_tui.models import PaneReading

MIN_VERSION = (3, 0)
AGENT_OPTION = "@fleet_agent"
OWNER_OPTION = "@fleet_repo"  # session options: the repository and fleet file the session serves
FLEET_FILE_OPTION = "@fleet_file"
PANE_ID = re.compile(r"%[0-9]+")
DEAD_MARK = "::fleet-tui:pane-dead::"
PANE_FORMAT = "\t".join(
    [
        "#{pane_id}",
        "#{pane_pid}",
        "#{pane_dead}",
        "#{pane_dead_status}",
        "#{pane_width}",
        "#{pane_height}",
        "#{window_id}",
        "#{" + AGENT_OPTION + "}",
    ]
)
# Options of the fleet's own server: dead panes stay readable, names stay put.
SERVER_OPTIONS: tuple[tuple[str, ...], ...] = (
    ("set-option", "-g", "remain-on-exit", "on"),
    ("set-option", "-g", "allow-rename", "off"),
    ("set-option", "-g", "automatic-rename", "off"),
    ("set-option", "-g", "history-limit", "20000"),
    ("set-option", "-g", "pane-border-status", "top"),
    ("set-option", "-g", "pane-border-format", " #{" + AGENT_OPTION + "} #{?pane_dead,(ended),} "),
    ("set-option", "-g", "mouse", "on"),
)


class _Separator:
    """The `;` between chained commands. tmux reads any argument that *ends* in `;` as a
    separator, so every other argument ending in one is escaped by literal_arg; a marker object,
    not the string, so a user's own ";" is never taken for it."""


_SEPARATOR = _Separator()


def literal_arg(arg: str) -> str:
    """An argument tmux will see byte for byte: a final `;` is escaped as `\\;` (tmux turns that
    back into `;`), which keeps `hello;` from being cut into `hello` plus a command separator."""
    return arg[:-1] + "\\;" if arg.endswith(";") else arg


def literal_format(text: str) -> str:
    """Text for a tmux argument that tmux expands as a format (`-c`, `-T`): `#` doubled, so a
    folder named `#(touch x)` is a folder name, not a shell command tmux runs."""
    return text.replace("#", "##")


def require_tmux() -> None:
    if shutil.which("tmux") is None:
        raise EnvironmentProblem(
            "tmux is not installed (or not on PATH)",
            "install it, e.g. `sudo apt-get install tmux` or `brew install tmux` (3.0 or newer)",
        )
    out = subprocess.run(["tmux", "-V"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"(\d+)\.(\d+)", out)
    if found and (int(found.group(1)), int(found.group(2))) < MIN_VERSION:
        raise EnvironmentProblem(
            f"tmux {out.split()[-1]} is too old: fleet-tui needs tmux 3.0 or newer",
            "upgrade tmux from your package manager",
        )


@dataclass(frozen=True)
class PaneStart:
    """What to run in a new pane."""

    agent: str
    cwd: Path
    argv: tuple[str, ...]


class Tmux:
    """The fleet's tmux server, reached through libtmux on its own socket."""

    def __init__(self, socket: str) -> None:
        self.socket = socket
        self.server = libtmux.Server(socket_name=socket)
        self._sep = f"::fleet-tui:{secrets.token_hex(4)}::"

    # -- low level ---------------------------------------------------------------------------

    def _cmd(self, *args: str | _Separator) -> list[str]:
        """Run one tmux command (or a chain from `_chain`); every argument reaches tmux as it is."""
        argv = [";" if isinstance(arg, _Separator) else literal_arg(arg) for arg in args]
        try:
            result = self.server.cmd(*argv)
        except LibTmuxException as exc:
            raise ExternalCommandFailed(f"tmux {argv[0]} failed: {exc}") from None
        if result.returncode != 0:
            message = "; ".join(result.stderr) or f"exit {result.returncode}"
            raise ExternalCommandFailed(f"tmux {argv[0]} failed: {message}")
        return list(result.stdout)

    @staticmethod
    def _chain(commands: Sequence[Sequence[str]]) -> list[str | _Separator]:
        args: list[str | _Separator] = []
        for command in commands:
            if args:
                args.append(_SEPARATOR)
            args.extend(command)
        return args

    # -- sessions ----------------------------------------------------------------------------

    def session_exists(self, session: str) -> bool:
        try:
            return bool(self.server.has_session(session, exact=True))
        except LibTmuxException:
            return False

    def create_session(self, session: str, panes: Sequence[PaneStart], per_window: int) -> dict[str, str]:
        """A new detached session with one pane per agent; returns agent -> pane id."""
        first = panes[0]
        out = self._cmd(
            *self._chain(
                [
                    ("start-server",),
                    *SERVER_OPTIONS,
                    (
                        "new-session", "-d", "-s", session, "-n", "agents-1",
                        "-x", "200", "-y", "50", "-c", literal_format(str(first.cwd)),
                        "-P", "-F", "#{pane_id}", *first.argv,
                    ),
                ]
            )
        )  # fmt: skip
        pane_ids = {first.agent: out[-1]}
        self._label(out[-1], first.agent)
        pane_ids.update(self.add_panes(session, panes[1:], per_window))
        return pane_ids

    def add_panes(self, session: str, panes: Sequence[PaneStart], per_window: int) -> dict[str, str]:
        """Add panes to an existing session, filling its last window before opening a new one."""
        pane_ids: dict[str, str] = {}
        for pane in panes:
            windows = self._cmd("list-windows", "-t", f"={session}", "-F", "#{window_id}\t#{window_panes}")
            window_id, count = windows[-1].split("\t")
            if int(count) < per_window:
                out = self._cmd(
                    "split-window", "-d", "-t", window_id, "-c", literal_format(str(pane.cwd)),
                    "-P", "-F", "#{pane_id}", *pane.argv,
                )  # fmt: skip
                self._cmd("select-layout", "-t", window_id, "tiled")
            else:
                out = self._cmd(
                    "new-window", "-d", "-t", f"={session}:", "-n", f"agents-{len(windows) + 1}",
                    "-c", literal_format(str(pane.cwd)), "-P", "-F", "#{pane_id}", *pane.argv,
                )  # fmt: skip
            pane_ids[pane.agent] = out[-1]
            self._label(out[-1], pane.agent)
        return pane_ids

    def _label(self, pane_id: str, agent: str) -> None:
        self._cmd(
            *self._chain(
                [
                    ("set-option", "-p", "-t", pane_id, AGENT_OPTION, agent),
                    ("select-pane", "-t", pane_id, "-T", literal_format(agent)),
                ]
            )
        )

    def clients(self, session: str) -> int:
        """How many tmux clients are attached to the session (0 when it is gone)."""
        if not self.session_exists(session):
            return 0
        try:
            names = self._cmd("list-clients", "-t", f"={session}", "-F", "#{client_name}")
        except ExternalCommandFailed:
            return 0
        return len([n for n in names if n.strip()])

    def viewed_panes(self, session: str) -> set[str]:
        """The panes a person is looking at: the active pane of each client attached to the session."""
        try:
            rows = self._cmd("list-clients", "-t", f"={session}", "-F", "#{pane_id}")
        except ExternalCommandFailed:
            return set()
        return {r.strip() for r in rows if r.strip()}

    def kill_pane(self, pane_id: str) -> None:
        self._cmd("kill-pane", "-t", pane_id)

    def kill_session(self, session: str) -> bool:
        if not self.session_exists(session):
            return False
        self._cmd("kill-session", "-t", f"={session}")
        return True

    # -- reading -----------------------------------------------------------------------------

    def list_panes(self, session: str) -> list[PaneReading]:
        """Panes of the session, without screens; empty when the session is gone."""
        if not self.session_exists(session):
            return []
        return [self._parse_pane(line, "") for line in self._list(session)]

    def _list(self, session: str) -> list[str]:
        return self._cmd("list-panes", "-s", "-t", f"={session}", "-F", PANE_FORMAT)

    def read(self, session: str) -> list[PaneReading]:
        """All panes of the session with their screens, in one tmux call (a fresh PaneReader)."""
        return PaneReader(self, session).read()

    def _split(self, out: list[str]) -> tuple[list[str], dict[str, str]]:
        listing: list[str] = []
        screens: dict[str, list[str]] = {}
        current: list[str] | None = None
        for line in out:
            if line.startswith(self._sep):
                current = screens.setdefault(line.removeprefix(self._sep), [])
            elif current is None:
                listing.append(line)
            else:
                current.append(line)
        return listing, {k: "\n".join(v) for k, v in screens.items()}

    @staticmethod
    def _parse_pane(line: str, screen: str) -> PaneReading:
        pane_id, pid, dead, dead_status, width, height, _window, agent = line.split("\t")
        return PaneReading(
            pane_id=pane_id,
            agent=agent,
            pid=int(pid) if pid.isdigit() else None,
            dead=dead == "1",
            dead_status=int(dead_status) if dead_status.lstrip("-").isdigit() else None,
            width=int(width),
            height=int(height),
            screen=screen,
        )

    # -- steering ----------------------------------------------------------------------------

    def respawn(self, pane_id: str, cwd: Path, argv: Sequence[str]) -> None:
        """Replace the pane's process (killing it if alive) with `argv`, keeping its scrollback."""
        self._cmd("respawn-pane", "-k", "-t", pane_id, "-c", literal_format(str(cwd)), *argv)

    def send_keys(self, pane_id: str, *keys: str) -> None:
        self._cmd("send-keys", "-t", pane_id, *keys)

    def paste(self, pane_id: str, text: str, submit: bool = True) -> bool:
        """Paste text verbatim into the pane through a tmux buffer, then press Enter.

        Returns False, pasting nothing, when the pane is dead: tmux 3.3 crashes, taking every pane
        of the server with it, on `paste-buffer` into a dead pane. The check runs inside the same
        tmux command as the paste (`if-shell -F`), so a pane that dies just before cannot race it.
        """
        if not PANE_ID.fullmatch(pane_id):  # it is spliced into the commands if-shell parses
            raise ExternalCommandFailed(f"tmux paste: {pane_id!r} is not a pane id")
        buffer = f"fleet-send-{secrets.token_hex(4)}"
        pasted = f"paste-buffer -d -p -b {buffer} -t {pane_id}"
        if submit:
            pasted += f" ; send-keys -t {pane_id} Enter"
        dead = f"delete-buffer -b {buffer} ; display-message -p {DEAD_MARK}"
        out = self._cmd(
            *self._chain(
                [
                    ("set-buffer", "-b", buffer, "--", text),
                    ("if-shell", "-F", "-t", pane_id, "#{pane_dead}", dead, pasted),
                ]
            )
        )
        return DEAD_MARK not in out

    # -- ownership ---------------------------------------------------------------------------

    def set_owner(self, session: str, repo: str, fleet_file: str) -> None:
        """Record which repository (and fleet file) the session belongs to, as session options."""
        self._cmd(
            *self._chain(
                [
                    ("set-option", "-t", f"={session}:", OWNER_OPTION, repo),
                    ("set-option", "-t", f"={session}:", FLEET_FILE_OPTION, fleet_file),
                ]
            )
        )

    def session_owner(self, session: str) -> tuple[str, str] | None:
        """(repository, fleet file) recorded on the session; None when it has no owner recorded."""
        try:
            repo = self._cmd("show-options", "-qv", "-t", f"={session}:", OWNER_OPTION)
            file = self._cmd("show-options", "-qv", "-t", f"={session}:", FLEET_FILE_OPTION)
        except ExternalCommandFailed:
            return None
        if not repo or not repo[0]:
            return None
        return repo[0], file[0] if file else ""

    def capture_history(self, pane_id: str, lines: int) -> str:
        """The pane's last `lines` rows of history and its screen, colours included, as tmux wraps
        them (no -J: a row is a row of the pane)."""
        return "\n".join(self._cmd("capture-pane", "-p", "-e", "-S", f"-{lines}", "-t", pane_id))

    def clear_history(self, pane_id: str) -> None:
        self._cmd("clear-history", "-t", pane_id)

    def attach_argv(self, session: str, pane_id: str | None) -> list[str]:
        """The command that attaches a terminal to the session, on the agent's pane, zoomed."""
        argv = ["tmux", "-L", self.socket]
        if pane_id:
            argv += [
                "select-window", "-t", pane_id, ";",
                "select-pane", "-t", pane_id, ";",
                # zoom, but never toggle an already zoomed pane back (resize-pane -Z alone would)
                "if-shell", "-F", "-t", pane_id, "#{window_zoomed_flag}", "",
                f"resize-pane -Z -t {pane_id}", ";",
            ]  # fmt: skip
        return [*argv, "attach-session", "-t", f"={session}"]


# PaneReader: the listing adds what changes when a screen may have changed without new output
# (cursor, history) and the second of each window's last output, which tmux keeps per window.
READ_FORMAT = PANE_FORMAT + "\t#{cursor_x}\t#{cursor_y}\t#{history_size}\t#{window_activity}"
RECAPTURE_EVERY = 30.0  # seconds: every screen is captured at least this often, changed or not
RECAPTURE_SPREAD = 10  # ...by at most 1/10 of the panes per read, oldest first


# tmux sends a client's whole command line as one message of at most 16 KB and refuses a longer
# one ("command too long"): a read of ~180 panes or more must be split across calls.
COMMAND_BYTES = 8000  # per call, well under the limit (the listing and the separators ride along)


def capture_batches(panes: Sequence[str], sep: str) -> list[list[str]]:
    """`panes` in batches whose capture commands each fit one tmux command line."""
    per_pane = len(f"display-message -p -t %000000 {sep}#{{pane_id}} ; capture-pane -p -e -t %000000 ; ")
    size = max(1, COMMAND_BYTES // per_pane)
    return [list(panes[i : i + size]) for i in range(0, len(panes), size)]


class PaneReader:
    """Reads one session's panes read after read, capturing only the screens that may have changed.

    tmux has no per-pane "changed" flag, but each window records the second of its last output
    (`window_activity`). A screen is captured again when its pane is new, when its listing changed
    (process, exit, size, cursor, history), when its window had output at or after the second its
    last capture started, and at least every RECAPTURE_EVERY seconds. Panes that were changing are
    captured in the same call as the listing (a busy pane costs no extra call); an idle session
    costs one `list-panes`, and only panes that just turned busy need a second call.
    """

    def __init__(self, tmux: Tmux, session: str, clock: Callable[[], float] = time.time) -> None:
        self.tmux = tmux
        self.session = session
        self.clock = clock
        self._panes: dict[str, PaneReading] = {}
        self._rows: dict[str, str] = {}  # pane -> its listing without the activity time
        self._captured: dict[str, float] = {}  # pane -> when the call that captured it started
        self._hot: list[str] = []
        self.captures = 0  # screens captured so far (tests and the benchmark read it)

    def read(self) -> list[PaneReading]:
        """Every pane of the session with its screen; empty when the session is gone."""
        ahead = self._ahead(self.clock())
        for _ in range(3):
            started = self.clock()
            try:
                listing, screens = self._call(ahead, listing=True)
            except ExternalCommandFailed:
                if not self.tmux.session_exists(self.session):
                    self._panes, self._rows, self._captured, self._hot = {}, {}, {}, []
                    return []
                if not ahead:
                    raise
                ahead = []  # a pane vanished: list again without captures
                continue
            rows = [self._row(line) for line in listing]
            stale = [pane_id for pane_id, row, activity in rows if self._stale(pane_id, row, activity)]
            when = dict.fromkeys(screens, started)
            need = [pane_id for pane_id in stale if pane_id not in screens]
            if need:
                second = self.clock()
                try:
                    _, more = self._call(need, listing=False)
                except ExternalCommandFailed:
                    ahead = stale  # a pane vanished in between: read again
                    continue
                screens.update(more)
                when.update(dict.fromkeys(more, second))
            return self._keep(rows, screens, when, stale)
        raise ExternalCommandFailed("tmux read failed: the panes kept changing while being read")

    def _ahead(self, now: float) -> list[str]:
        """Screens to capture with the listing: the ones that were changing, plus the oldest few."""
        hot = [pane_id for pane_id in self._hot if pane_id in self._panes]
        due = [p for p in self._panes if p not in hot and now - self._captured[p] >= RECAPTURE_EVERY]
        due.sort(key=self._captured.__getitem__)
        return hot + due[: math.ceil(len(self._panes) / RECAPTURE_SPREAD)]

    def _call(self, capture: Sequence[str], *, listing: bool) -> tuple[list[str], dict[str, str]]:
        """The listing (when asked) and the screens of `capture`, in as few tmux calls as fit."""
        sep = self.tmux._sep
        lines: list[str] = []
        screens: dict[str, str] = {}
        for i, batch in enumerate(capture_batches(capture, sep) or [[]]):
            commands: list[tuple[str, ...]] = []
            if listing and i == 0:
                commands.append(("list-panes", "-s", "-t", f"={self.session}", "-F", READ_FORMAT))
            for pane_id in batch:
                commands.append(("display-message", "-p", "-t", pane_id, sep + "#{pane_id}"))
                commands.append(("capture-pane", "-p", "-e", "-t", pane_id))
            if batch:  # an end mark, so the last screen keeps its blank lines like the others
                commands.append(("display-message", "-p", "-t", batch[-1], sep))
            out = self.tmux._cmd(*self.tmux._chain(commands))
            listed, captured = self.tmux._split(out)
            lines.extend(listed)
            captured.pop("", None)
            screens.update(captured)
        return lines, screens

    @staticmethod
    def _row(line: str) -> tuple[str, str, str]:
        row, _, activity = line.rpartition("\t")
        return row.split("\t", 1)[0], row, activity

    def _stale(self, pane_id: str, row: str, activity: str) -> bool:
        if pane_id not in self._panes or self._rows.get(pane_id) != row:
            return True
        if not activity.isdigit():
            return True
        return int(activity) >= int(self._captured[pane_id])

    def _keep(
        self,
        rows: list[tuple[str, str, str]],
        screens: dict[str, str],
        when: dict[str, float],
        stale: list[str],
    ) -> list[PaneReading]:
        panes: list[PaneReading] = []
        captured: dict[str, float] = {}
        for pane_id, row, activity in rows:
            if pane_id in screens:
                fields = "\t".join(row.split("\t")[: PANE_FORMAT.count("\t") + 1])
                pane = self.tmux._parse_pane(fields, screens[pane_id])
                if activity.isdigit():
                    pane = pane.model_copy(update={"activity": float(activity)})
                panes.append(pane)
                captured[pane_id] = when[pane_id]
            else:
                panes.append(self._panes[pane_id])
                captured[pane_id] = self._captured[pane_id]
        self.captures += len(screens)
        self._panes = {p.pane_id: p for p in panes}
        self._rows = {pane_id: row for pane_id, row, _ in rows}
        self._captured = captured
        self._hot = stale
        return panes


def client_env() -> dict[str, str]:
    """Environment for a tmux client that must not nest inside the person's own tmux."""
    env = dict(os.environ)
    env.pop("TMUX", None)
    env.pop("TMUX_PANE", None)
    return env


def run_client(argv: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Run a tmux client in the foreground (an attach) until the person detaches; its exit code."""
    return subprocess.run(list(argv), env=env if env is not None else client_env(), check=False).returncode
