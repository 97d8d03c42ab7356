"""Reading a session's panes tick after tick, capturing only the screens that may have changed."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from fleet_tui.adapters.tmux._cli import OWNER_OPTION, PANE_FORMAT, PANE_ID, Commands
from fleet_tui.adapters.tmux.control import Control
from fleet_tui.errors import ExternalCommandFailed
from fleet_tui.models import PaneReading

# PaneReader: the listing adds what changes when a screen may have changed without new output
# (cursor, history) and the second of each window's last output, which tmux keeps per window.
# The session's recorded owner rides along on every row (no extra call): a session of our name that
# another repository made is never read as this fleet's.
READ_FORMAT = (
    PANE_FORMAT + "\t#{cursor_x}\t#{cursor_y}\t#{history_size}\t#{" + OWNER_OPTION + "}\t#{window_activity}"
)
OWNER_FIELD = PANE_FORMAT.count("\t") + 4  # the owner's position in a READ_FORMAT row


# Seconds: every screen is captured at least this often, changed or not (a safety net: a screen
# changes by output, which moves its window's activity, or by a resize, which changes its listing).
# Every 30 s it was ~3 captures a second at 100 agents, a fifth of an idle fleet's tmux cost.
RECAPTURE_EVERY = 120.0


RECAPTURE_SPREAD = 10  # ...by at most 1/10 of the panes per read, oldest first


# tmux sends a client's whole command line as one message of at most 16 KB and refuses a longer
# one ("command too long"): a read of ~180 panes or more must be split across calls.
COMMAND_BYTES = 8000  # per call, well under the limit (the listing and the separators ride along)


# Before each screen, a line with the reader's separator, the pane and its height: a capture prints
# exactly one line per row, which is how a screen read through the control client is checked whole.
SCREEN_MARK = "#{pane_id}\t#{pane_height}"


def capture_batches(panes: Sequence[str], sep: str) -> list[list[str]]:
    """`panes` in batches whose capture commands each fit one tmux command line."""
    pane = "'%000000'"  # quoted, as the control client sends it
    per_pane = len(f"display-message -p -t {pane} '{sep}{SCREEN_MARK}' ; capture-pane -p -e -t {pane} ; ")
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

    With `control` (a reader that reads again and again), the calls go through one long-lived
    tmux control client (control.py), started at the first read and ended by `close()`; a call it
    cannot answer, or whose reply is not exactly what was asked, runs in a tmux process instead.
    """

    def __init__(
        self, tmux: Commands, session: str, clock: Callable[[], float] = time.time, *, control: bool = True
    ) -> None:
        self.tmux = tmux
        self.control = Control(tmux.socket, session) if control else None
        self.session = session
        self.clock = clock
        self._panes: dict[str, PaneReading] = {}
        self._rows: dict[str, str] = {}  # pane -> its listing without the activity time
        self._captured: dict[str, float] = {}  # pane -> when the call that captured it started
        self._hot: list[str] = []
        self.captures = 0  # screens captured so far (tests and the benchmark read it)
        self.owner: str | None = None  # the repository the session records (None: no session)

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
                    self.owner = None
                    return []
                if not ahead:
                    raise
                ahead = []  # a pane vanished: list again without captures
                continue
            rows = [self._row(line) for line in listing]
            self.owner = "\t".join(rows[0][1].split("\t")[OWNER_FIELD:]) if rows else None
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
                commands.append(("display-message", "-p", "-t", pane_id, sep + SCREEN_MARK))
                commands.append(("capture-pane", "-p", "-e", "-t", pane_id))
            if batch:  # an end mark, so the last screen keeps its blank lines like the others
                commands.append(("display-message", "-p", "-t", batch[-1], sep))
            out = self._run(commands)
            listed, captured = self.tmux._split(out)
            lines.extend(listed)
            captured.pop("", None)
            screens.update(captured)
        return lines, screens

    def _run(self, commands: Sequence[Sequence[str]]) -> list[str]:
        """The output lines of the chained commands, as one tmux process would print them."""
        if self.control is not None and (blocks := self.control.run(commands)) is not None:
            out = self._checked(commands, blocks)
            if out is not None:
                return out
            self.control.drop()  # a reply not as asked: never trusted, never read from again
        return self.tmux._cmd(*self.tmux._chain(commands))

    def _checked(self, commands: Sequence[Sequence[str]], blocks: list[list[str]]) -> list[str] | None:
        """The blocks' lines if each is what its command prints (a listing row per pane, the
        separators as asked, a screen of exactly its pane's height); None at the first doubt."""
        sep = self.tmux._sep
        out: list[str] = []
        rows = -1  # the height the last separator announced
        for command, block in zip(commands, blocks, strict=True):
            if command[0] == "list-panes":
                good = all(PANE_ID.match(line) and "\t" in line for line in block)
            elif command[0] == "capture-pane":
                good, rows = len(block) == rows, -1
            elif command[-1] == sep:
                good = block == [sep]
            else:
                head = sep + command[3] + "\t"  # the separator of pane command[3]: its height follows
                good = len(block) == 1 and block[0].startswith(head) and block[0][len(head) :].isdigit()
                rows = int(block[0][len(head) :]) if good else -1
            if not good:
                return None
            out.extend(block)
        return out

    def close(self) -> None:
        """End the control client (reads after this run in tmux processes)."""
        if self.control is not None:
            self.control.close()

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
