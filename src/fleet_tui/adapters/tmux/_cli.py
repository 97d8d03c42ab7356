"""Running tmux: the one place libtmux is imported, on the fleet's own socket. The constants and
formats the package shares, arguments made literal, and `Commands`: one command or a chain of
them, their output split into listing and screens.

Package-private: `Tmux` (server.py) and `PaneReader` (reader.py) build on it.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from collections.abc import Sequence

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


class Commands:
    """One tmux server on its own socket, reached through libtmux: commands run with every argument
    as it is, chains of them in one client, and their output split into a listing and screens."""

    def __init__(self, socket: str) -> None:
        self.socket = socket
        self.server = libtmux.Server(socket_name=socket)
        self._sep = f"::fleet-tui:{secrets.token_hex(4)}::"

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

    def session_exists(self, session: str) -> bool:
        try:
            return bool(self.server.has_session(session, exact=True))
        except LibTmuxException:
            return False

    def server_alive(self) -> bool:
        """Whether the fleet's tmux server runs at all (asked only once its session is gone)."""
        try:
            return bool(self.server.is_alive())
        except LibTmuxException:
            return False

    def _split(self, out: list[str]) -> tuple[list[str], dict[str, str]]:
        listing: list[str] = []
        screens: dict[str, list[str]] = {}
        current: list[str] | None = None
        for line in out:
            if line.startswith(self._sep):
                # the pane (and its height, after a tab)
                current = screens.setdefault(line.removeprefix(self._sep).split("\t", 1)[0], [])
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
