"""The fleet's tmux server: sessions and panes made, labelled, killed; agents respawned, sent
keys and text; ownership recorded; history captured; the attach command."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fleet_tui.adapters.tmux._cli import (
    AGENT_OPTION,
    DEAD_MARK,
    FLEET_FILE_OPTION,
    OWNER_OPTION,
    PANE_FORMAT,
    PANE_ID,
    SERVER_OPTIONS,
    Commands,
    literal_format,
)
from fleet_tui.adapters.tmux.reader import PaneReader
from fleet_tui.errors import ExternalCommandFailed
from fleet_tui.models import PaneReading


@dataclass(frozen=True)
class PaneStart:
    """What to run in a new pane."""

    agent: str
    cwd: Path
    argv: tuple[str, ...]


class Tmux(Commands):
    """The fleet's tmux server, reached through libtmux on its own socket."""

    # -- sessions ----------------------------------------------------------------------------

    def create_session(
        self, session: str, panes: Sequence[PaneStart], per_window: int, owner: tuple[str, str] | None = None
    ) -> dict[str, str]:
        """A new detached session with one pane per agent; returns agent -> pane id. `owner`
        (repository, fleet file) is recorded in the same call, so no reader sees it unowned."""
        first = panes[0]
        owned: list[tuple[str, ...]] = []
        if owner is not None:
            owned.append(("set-option", "-t", f"={session}:", OWNER_OPTION, owner[0]))
            owned.append(("set-option", "-t", f"={session}:", FLEET_FILE_OPTION, owner[1]))
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
                    *owned,
                ]
            )
        )  # fmt: skip
        pane_ids = {first.agent: next(line for line in out if PANE_ID.fullmatch(line))}
        self._label(pane_ids[first.agent], first.agent)
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
        """How many people's tmux clients are attached to the session (0 when it is gone)."""
        if not self.session_exists(session):
            return 0
        try:
            return len(self._people(session, "#{client_name}"))
        except ExternalCommandFailed:
            return 0

    def viewed_panes(self, session: str) -> set[str]:
        """The panes a person is looking at: the active pane of each client attached to the session."""
        try:
            return set(self._people(session, "#{pane_id}"))
        except ExternalCommandFailed:
            return set()

    def _people(self, session: str, field: str) -> list[str]:
        """`field` of each client attached to the session that is not a control client: a reader's
        control client (control.py) reads panes, nobody looks through it."""
        rows = self._cmd("list-clients", "-t", f"={session}", "-F", "#{client_control_mode}\t" + field)
        people = (row.partition("\t") for row in rows)
        return [value.strip() for mode, _, value in people if mode != "1" and value.strip()]

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
        """All panes of the session with their screens, in one tmux call (a fresh PaneReader,
        with no control client: one read does not pay for starting one)."""
        return PaneReader(self, session, control=False).read()

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

    # -- ownership and history ---------------------------------------------------------------

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
