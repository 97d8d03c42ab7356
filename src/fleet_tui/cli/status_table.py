"""`fleet-tui status` (and the headless demo's closing table) as a person reads it: one line per
agent, fitted to the terminal's width.

A Rich table squeezed into 80 columns wrapped every cell over several lines ("worki… / ng"); here
each agent keeps one line: the columns that fit are shown in full, the status reason takes the
width that is left and is cut with an ellipsis, and when even that does not fit, the least telling
columns are left out, and the line under the table says which (`--json` has them all).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rich.markup import escape
from rich.text import Text

from fleet_tui.cli.common import out
from fleet_tui.engine.text import listed, shown_path
from fleet_tui.models import AgentSnapshot, FleetSnapshot, GateResult
from fleet_tui.ui.format import GATE_MARKS, STATUS_STYLE, overlap_names, truncate

GAP = 2  # spaces between columns
REASON_MIN = 16  # below this the reason says nothing: drop a column instead
NAME_MAX = 24  # longer names are cut (the full name is in `status --json`)
OVERLAP_MAX = 24


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    cell: Callable[[AgentSnapshot], str]
    style: Callable[[AgentSnapshot], str] = lambda _agent: ""
    limit: int | None = None  # cut longer cells to this many characters
    right: bool = False  # numbers line up on the right

    def text(self, agent: AgentSnapshot) -> str:
        value = self.cell(agent)
        return truncate(value, self.limit) if self.limit else value


def gates_marks(gates: Sequence[GateResult]) -> str:
    """One mark per gate, as the dashboard's gates column: ✓ passed, ✗ failed, … not yet (which
    gate failed, and why, is said under the table)."""
    return "".join(GATE_MARKS[g.ok][0] for g in gates) if gates else "-"


def _status(agent: AgentSnapshot) -> str:
    return agent.status.value + (f" ({agent.exit_code})" if agent.exit_code else "")


def _reason(agent: AgentSnapshot) -> str:
    reason = agent.status_reason + (f": {agent.status_evidence.strip()}" if agent.status_evidence else "")
    return " ".join(reason.split())  # one line, whatever the evidence held


# In the order shown; REASON last, taking the free width.
COLUMNS: tuple[Column, ...] = (
    Column("agent", "agent", lambda a: a.name, lambda _a: "bold", limit=NAME_MAX),
    Column("status", "status", _status, lambda a: STATUS_STYLE.get(a.status, "")),
    Column("files", "files", lambda a: str(len(a.files)), right=True),
    Column("lines", "+/-", lambda a: f"+{a.added}/-{a.removed}"),
    Column("ahead", "ahead", lambda a: str(a.commits_ahead), right=True),
    Column("drift", "drift", lambda a: str(len(a.drift)), lambda a: "red" if a.drift else "", right=True),
    Column(
        "overlap",
        "overlap",
        lambda a: ", ".join(overlap_names(a)) or "-",
        lambda a: "yellow" if overlap_names(a) else "",
        limit=OVERLAP_MAX,
    ),
    Column("gates", "gates", lambda a: gates_marks(a.gates)),
    Column("ctx", "ctx", lambda a: "-" if a.context_used is None else f"{a.context_used:.0f}%", right=True),
)
# Left out first when the width is short: the least telling first.
DROP_ORDER = ("ctx", "ahead", "lines", "gates", "overlap", "files")


def terminal_width() -> int:
    """The width to fit: $COLUMNS when set, else the terminal's, else 80 (a pipe, a file)."""
    return max(20, shutil.get_terminal_size((80, 24)).columns)


def _widths(columns: Sequence[Column], agents: tuple[AgentSnapshot, ...]) -> dict[str, int]:
    return {c.key: max([len(c.header), *(len(c.text(a)) for a in agents)]) for c in columns}


def table_columns(width: int) -> tuple[Column, ...]:
    """COLUMNS, with names cut shorter on a narrow terminal (a fifth of it, at least 12)."""
    name_max = max(12, min(NAME_MAX, width // 5))
    return (replace(COLUMNS[0], limit=name_max), *COLUMNS[1:])


def fit_columns(
    columns: Sequence[Column], agents: tuple[AgentSnapshot, ...], width: int
) -> tuple[list[Column], int, list[str]]:
    """The columns that fit in `width`, the reason's width, and the headers of those left out."""
    widths = _widths(columns, agents)
    by_key = {c.key: c for c in columns}
    shown = list(columns)
    dropped: list[str] = []

    def room() -> int:
        return width - sum(widths[c.key] + GAP for c in shown)

    # A column with nothing in it ("-" for every agent) goes first, and unmentioned: nothing is lost.
    empty = [k for k in DROP_ORDER if all(by_key[k].text(a) == "-" for a in agents)]
    for key in [*empty, *(k for k in DROP_ORDER if k not in empty)]:
        if room() >= REASON_MIN:
            break
        shown.remove(by_key[key])
        if key not in empty:
            dropped.append(by_key[key].header)
    return shown, max(room(), 0), dropped


def status_lines(snapshot: FleetSnapshot, width: int) -> list[Text]:
    """The agent table as lines no wider than `width` (a header, then one line per agent)."""
    every = table_columns(width)
    columns, reason_width, dropped = fit_columns(every, snapshot.agents, width)
    widths = _widths(every, snapshot.agents)

    def line(cells: list[tuple[str, str, bool, int]], reason: tuple[str, str]) -> Text:
        text = Text()
        for value, style, right, size in cells:
            text.append(value.rjust(size) if right else value.ljust(size), style=style)
            text.append(" " * GAP)
        if reason_width:
            text.append(truncate(reason[0], reason_width), style=reason[1])
        text.rstrip()
        return text

    header = line([(c.header, "bold", c.right, widths[c.key]) for c in columns], ("reason", "bold"))
    lines = [header]
    for agent in snapshot.agents:
        cells = [(c.text(agent), c.style(agent), c.right, widths[c.key]) for c in columns]
        lines.append(line(cells, (_reason(agent), "dim")))
    if dropped:
        note = f"({', '.join(dropped)} left out at this width: see `status --json`)"
        lines.append(Text(truncate(note, width), style="dim"))
    return lines


DRIFT_LISTED = 20  # drifted files named per agent in `status` (--json has them all)


def print_status(snapshot: FleetSnapshot, width: int | None = None) -> None:
    """The fleet line, the agent table fitted to `width` (the terminal's), then what needs saying:
    the queue, agents that need a person, failed gates, git problems, drift and overlaps."""
    width = width or terminal_width()
    alive = "up" if snapshot.session_alive else "[red]down[/]"
    spent = f"  ${snapshot.cost_usd:.2f} spent" if snapshot.cost_usd is not None else ""
    fleet, base = escape(snapshot.fleet), escape(snapshot.base)
    out.print(f"fleet [bold]{fleet}[/]  base {base}  session {alive}{spent}")
    if snapshot.down_reason:
        out.print(f"[red]down:[/] {escape(snapshot.down_reason)}")
    for lock in snapshot.base_locks:  # no merge into base until it goes
        out.print(f"[red]git lock held on {base}:[/] {escape(shown_path(lock))} (merges wait)")
    for line in status_lines(snapshot, width):
        out.print(line)
    queue = snapshot.queue
    if queue is not None and (queue.pending or queue.max_agents is not None):
        limit = f" (max_agents {queue.max_agents})" if queue.max_agents else ""
        parts = [f"{len(getattr(queue, k))} {k}" for k in ("pending", "active", "done", "failed")]
        out.print(f"queue{limit}: " + ", ".join(parts))
    for agent in snapshot.agents:
        if agent.needs_person:
            out.print(f"[bold red]needs a person[/] {agent.name}: {escape(agent.needs_person)}")
        for gate in agent.gates:
            if gate.ok is False:
                out.print(f"[red]gate {gate.name}[/] {agent.name}: {escape(gate.detail)}")
    for agent in snapshot.agents:
        if agent.git_error:
            out.print(f"[red]problem[/] {agent.name}: {escape(agent.git_error)}")
        for lock in agent.git_locks:
            out.print(f"[red]git lock held[/] {agent.name}: {escape(shown_path(lock))}")
        if agent.drift:
            # the first few, and how many more: 20,000 drifted files are not one 600 KB line
            out.print(
                f"[red]drift[/] {agent.name}: {escape(listed(map(shown_path, agent.drift), DRIFT_LISTED))}"
            )
    for entry in snapshot.overlaps:
        out.print(f"[yellow]overlap[/] {escape(shown_path(entry.path))}: {', '.join(entry.agents)}")
