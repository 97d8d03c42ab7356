"""How readings look on screen: status colours, durations, table cells, the summary line.

Pure functions over snapshot models (no Textual, no I/O), so they are tested and reused on their own.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text

from fleet_tui.engine.supervisor import STALE_AFTER
from fleet_tui.engine.text import files, shown_path
from fleet_tui.errors import FleetError
from fleet_tui.models import AgentSnapshot, FileChange, FleetSnapshot, QueueView, Status

STATUS_STYLE: dict[Status, str] = {
    Status.QUEUED: "dim",
    Status.STARTING: "cyan",
    Status.WORKING: "green",
    Status.WAITING: "bold yellow",
    Status.IDLE: "blue",
    Status.EXITED: "white",
    Status.CRASHED: "bold red",
    Status.KILLED: "magenta",
    Status.MERGED: "bold green",
    Status.READY: "bold cyan",
    Status.MISSING: "red",
    Status.UNKNOWN: "italic yellow",
}
ATTENTION_STYLE = "on #5c4400"
TABLE_CLOCK_STEP = 10.0  # seconds; see table_clock
CLOCK_WIDTH = 5  # the widest age(): '2h04m', '3d02h'
RUNTIME_WIDTH = len("runtime")  # its column's header: the ages line up under its right end
# Status cells are padded to the widest status word with a one-digit exit code ("crashed(1)"), so
# neither a ticking age nor a changing status widens the column and shifts the others (only an exit
# code of two or more digits would, once).
STATUS_WORD_WIDTH = max(len(s.value) for s in Status) + 2  # "starting", or "crashed(1)"
# A process that has ended: its runtime is from its start to that end, not to now.
ENDED: frozenset[Status] = frozenset({Status.EXITED, Status.CRASHED, Status.KILLED, Status.MERGED})
LAST_LINE_WIDTH = 44  # until the table knows its width; then the last line takes what is free
LAST_LINE_MIN = 10
NAME_MIN = 8  # a narrow terminal cuts long agent names, down to this many characters
# The columns of the compact table (below COMPACT_BELOW terminal columns): who, how, what changed.
COMPACT_COLUMNS = ("agent", "status", "files", "drift", "last")
# Left out, in this order, when the terminal is too narrow for every column and a readable last line
# (the detail panel, `?` and `status --json` still have them); agent, status, drift and the last
# line always stay.
DROP_ORDER = ("context", "ahead", "lines", "restarts", "runtime", "gates", "overlap", "files")
COMPACT_BELOW = 100

# (key, label) of the agent table's columns, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("agent", "agent"),
    ("status", "status"),
    ("runtime", "runtime"),
    ("files", "files"),
    ("lines", "+/-"),
    ("drift", "drift"),
    ("overlap", "overlap"),
    ("ahead", "ahead"),
    ("restarts", "restarts"),
    ("context", "ctx"),
    ("gates", "gates"),
    ("last", "last line"),
)

Cells = tuple[Text, ...]


def duration(seconds: float | None) -> str:
    """A short human duration: 42s, 3m05s, 25m, 2h04m, 3d02h.

    Seconds only while they matter (under 10 minutes): past that a row's age changes once a
    minute, so a table of long-running agents is not redrawn every second."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def age(seconds: float | None) -> str:
    """An age in the agent table: whole minutes at the finest ('<1m', '7m', '2h04m', '13h', '3d02h',
    '12d').

    A person reads the table for what changed, not to watch clocks: ages ticking every second
    made every row of a young fleet change every second, and each change repaints the table.
    At most CLOCK_WIDTH characters, so a cell padded to it never grows as the clock ticks."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 60:
        return "<1m"
    if s < 3600:
        return f"{s // 60}m"
    if 10 * 3600 <= s < 86400:
        return f"{s // 3600}h"
    if s >= 10 * 86400:
        return f"{s // 86400}d"
    return duration(s)


def table_clock(now: float) -> float:
    """The clock the agent table is drawn at: it moves in TABLE_CLOCK_STEP steps, so the rows
    whose age turned over repaint together, at most once a step (an age is at most a step late)."""
    return now - now % TABLE_CLOCK_STEP


def status_word(agent: AgentSnapshot) -> str:
    word = agent.status.value
    if agent.status in (Status.EXITED, Status.CRASHED) and agent.exit_code is not None:
        word += f"({agent.exit_code})"
    return word


def status_text(agent: AgentSnapshot, now: float, clock: Callable[[float], str] = duration) -> Text:
    text = Text("● ", style=STATUS_STYLE.get(agent.status, ""))
    text.append(status_word(agent), style=STATUS_STYLE.get(agent.status, ""))
    text.append(f" {clock(now - agent.status_since)}", style="dim")
    return text


def status_cell(agent: AgentSnapshot, now: float) -> Text:
    """The table's status: the word, then how long the agent has had it, at fixed widths (the age
    right-aligned), so the cell never changes width as the clock ticks or the status changes."""
    style = STATUS_STYLE.get(agent.status, "")
    text = Text("● ", style=style)
    text.append(status_word(agent).ljust(STATUS_WORD_WIDTH), style=style)
    text.append(" " + age(now - agent.status_since).rjust(CLOCK_WIDTH), style="dim")
    return text


def runtime(agent: AgentSnapshot, now: float) -> float | None:
    """How long the agent's process has run: from its start to now, or to its end once it has
    ended (exited, crashed, killed, merged: the clock stops there). None before a first start."""
    if agent.started_at is None:
        return None
    end = agent.status_since if agent.status in ENDED else now
    return max(0.0, end - agent.started_at)


def runtime_text(agent: AgentSnapshot, now: float) -> str:
    """The runtime column: blank while the agent has had one status since its start (the status's
    age is that same clock: one clock per state, not two near-equal ones), '-' before a start."""
    started = agent.started_at
    if started is None:
        return "-".rjust(RUNTIME_WIDTH)
    if agent.status not in ENDED and agent.status_since - started < 60:
        return " " * RUNTIME_WIDTH
    return age(runtime(agent, now)).rjust(RUNTIME_WIDTH)


def overlap_names(agent: AgentSnapshot) -> list[str]:
    return sorted({n for names in agent.overlap.values() for n in names if n != agent.name})


def lines_text(added: int, removed: int) -> Text:
    text = Text(f"+{added}", style="green" if added else "dim")
    text.append(" ")
    text.append(f"-{removed}", style="red" if removed else "dim")
    return text


def truncate(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def row_clock(agent: AgentSnapshot, now: float) -> tuple[str, str]:
    """The parts of a row that change with the clock alone: status age and runtime."""
    return age(now - agent.status_since), runtime_text(agent, now)


GATE_MARKS = {True: ("✓", "green"), False: ("✗", "bold red"), None: ("…", "dim")}


def gates_text(agent: AgentSnapshot) -> Text:
    """One mark per gate (uncommitted, verify, conflicts, drift, review): ✓ passed, ✗ failed, … not
    yet or stale; "-" before any gate ran."""
    if not agent.gates:
        return Text("-", style="dim")
    text = Text()
    for gate in agent.gates:
        mark, style = GATE_MARKS[gate.ok]
        text.append(mark, style=style)
    return text


def gate_lines(agent: AgentSnapshot, now: float) -> list[tuple[str, str, str]]:
    """(mark, name, "detail (age)") per gate, for the detail panel; ages in whole minutes, like
    the table's (in seconds, the panel was drawn again every second for every gate)."""
    rows = []
    for gate in agent.gates:
        mark, _ = GATE_MARKS[gate.ok]
        when = f" ({age(now - gate.checked_at)} ago)" if gate.checked_at else ""
        rows.append((mark, gate.name, gate.detail + when))
    return rows


def row_cells(
    agent: AgentSnapshot,
    now: float,
    attention: bool,
    last_width: int = LAST_LINE_WIDTH,
    name_width: int | None = None,
) -> Cells:
    """The agent table's cells for one agent, in COLUMNS order; the last line cut to `last_width`,
    the name to `name_width` when given (a narrow terminal), both with an ellipsis."""
    drift = len(agent.drift)
    others = overlap_names(agent)
    shown_name = truncate(agent.name, name_width) if name_width else agent.name
    name = Text(("! " if attention else "  ") + shown_name, style="bold")
    restarts = f"{agent.restarts}/{agent.max_restarts}" if agent.restarts else "0"
    if agent.needs_human:
        restarts += " needs you"
    cells: Cells = (
        name,
        status_cell(agent, now),
        Text(runtime_text(agent, now), style="dim" if agent.status in ENDED else ""),
        Text(str(len(agent.files)), style="" if agent.files else "dim"),
        lines_text(agent.added, agent.removed),
        Text(str(drift), style="bold red" if drift else "dim"),
        Text(", ".join(others) if others else "-", style="yellow" if others else "dim"),
        Text(str(agent.commits_ahead), style="" if agent.commits_ahead else "dim"),
        Text(restarts, style="bold red" if agent.needs_human else ("" if agent.restarts else "dim")),
        context_text(agent),
        gates_text(agent),
        Text(truncate(agent.last_line, last_width), style="dim"),
    )
    if agent.git_pending:  # the first picture comes before git: its figures are not known yet
        unknown = Text("…", style="dim")
        cells = tuple(unknown.copy() if i in GIT_CELLS else cell for i, cell in enumerate(cells))
    if attention:
        for cell in cells:
            cell.stylize(ATTENTION_STYLE)
    return cells


# The cells that come from git (files, +/-, drift, overlap, ahead): "…" until the first reading.
GIT_CELLS = frozenset(
    i for i, (key, _) in enumerate(COLUMNS) if key in {"files", "lines", "drift", "overlap", "ahead"}
)


CONTEXT_WARN = 60.0  # percent: the course rule for a start; past it an agent's work degrades


def context_text(agent: AgentSnapshot) -> Text:
    """How full the agent's context window is (from its statusline, or its screen), and its cost."""
    if agent.context_used is None:
        return Text("$" + f"{agent.cost_usd:.2f}" if agent.cost_usd is not None else "-", style="dim")
    used = agent.context_used
    style = "bold red" if used >= 80 else "yellow" if used >= CONTEXT_WARN else ""
    return Text(f"{used:.0f}%", style=style)


def lock_name(lock: str, repo: str) -> str:
    """A lock file's path inside the repository (`.git/index.lock`), else in full."""
    prefix = repo.rstrip("/") + "/"
    return lock.removeprefix(prefix) if lock.startswith(prefix) else lock


def summary_text(snapshot: FleetSnapshot, now: float | None = None, compact: bool = False) -> Text:
    """Fleet name, base, counts by status, drift and overlap; a stopped supervisor or a stale
    picture is said first (`now` given). `compact` (a narrow terminal): counts of zero left out,
    so the line fits in one or two rows."""
    text = Text()
    text.append(f" {snapshot.fleet} ", style="bold reverse")
    text.append(f"  base {snapshot.base}  ")
    _health(text, snapshot, now)
    for status in (Status.WORKING, Status.WAITING, Status.IDLE, Status.EXITED, Status.CRASHED):
        count = snapshot.count(status)
        if count or not compact:
            text.append(f"{count} {status.value}", style=STATUS_STYLE[status] if count else "dim")
            text.append("  ")
    for status in (Status.READY, Status.QUEUED, Status.KILLED, Status.MERGED, Status.UNKNOWN):  # when some
        count = snapshot.count(status)
        if count:
            text.append(f"{count} {status.value}", style=STATUS_STYLE[status])
            text.append("  ")
    drifted = sum(1 for a in snapshot.agents if a.drift)
    if drifted or not compact:
        text.append(f"{drifted} drifted", style="bold red" if drifted else "dim")
        text.append("  ")
    shared = len(snapshot.overlaps)
    if shared or not compact:
        text.append(f"{files(shared)} in overlap", style="yellow" if shared else "dim")
    if any(a.git_pending for a in snapshot.agents):
        text.append("  reading the worktrees…", style="dim italic")
    if snapshot.cost_usd is not None:  # only agents that report a cost count
        text.append(f"  ${snapshot.cost_usd:.2f} spent")
    _queue(text, snapshot.queue, compact)
    text.rstrip()
    return text


def _health(text: Text, snapshot: FleetSnapshot, now: float | None) -> None:
    """What is wrong with the picture itself or the fleet as a whole, in red, first."""
    if snapshot.supervisor_alive is False:
        text.append("supervisor not running: starting it (this picture is old)  ", style="bold red")
    elif snapshot.supervisor_pid is not None and now is not None and now - snapshot.taken_at > STALE_AFTER:
        text.append(f"stale: last reading {now - snapshot.taken_at:.0f} s ago  ", style="bold red")
    if not snapshot.session_alive:
        text.append(f"down: {snapshot.down_reason or 'run `fleet-tui up`'}  ", style="bold red")
    if snapshot.base_locks:  # no merge into base can be made meanwhile
        held = ", ".join(shown_path(lock_name(lock, snapshot.repo)) for lock in snapshot.base_locks)
        text.append(f"git lock held on {snapshot.base}: {held} (merges wait)  ", style="bold red")


def _queue(text: Text, queue: QueueView | None, compact: bool) -> None:
    if queue is None or not (queue.pending or queue.max_agents is not None):
        return
    limit = f" (max {queue.max_agents})" if queue.max_agents else ""
    text.append(f"  queue{limit}: ", style="bold")
    parts = [(len(queue.pending), "pending"), (len(queue.active), "active")]
    parts += [(len(queue.done), "done"), (len(queue.failed), "failed")]
    text.append(" · ".join(f"{n} {word}" for n, word in parts if n or not compact))


def scope_mark(agent: AgentSnapshot, change: FileChange) -> Text:
    """in scope / DRIFT, and overlap (with whom)."""
    text = Text("in scope", style="green") if change.in_scope else Text("DRIFT", style="bold red")
    others = [n for n in agent.overlap.get(change.path, ()) if n != agent.name]
    if others:
        text.append(" overlap: " + ", ".join(others), style="yellow")
    return text


def state_text(states: tuple[str, ...] | None, change: FileChange) -> Text:
    """committed / uncommitted / both / untracked; '…' while it is being read."""
    if change.untracked:
        return Text("untracked", style="magenta")
    if states is None:
        return Text("…", style="dim")
    if not states:
        return Text("-", style="dim")
    styles = {"committed": "cyan", "uncommitted": "yellow", "untracked": "magenta"}
    text = Text()
    for i, state in enumerate(states):
        if i:
            text.append(" + ")
        text.append(state, style=styles.get(state, ""))
    return text


def change_lines(change: FileChange) -> Text:
    if change.binary:
        return Text("binary", style="bold magenta")
    return lines_text(change.added or 0, change.removed or 0)


def diff_line_style(line: str) -> str:
    """The colour of one line of a unified diff (what a diff lexer would give it)."""
    if line.startswith(("+++", "---")):
        return "bold"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    if line.startswith("@@"):
        return "cyan"
    if line.startswith(("diff ", "index ", "new file", "deleted file", "similarity", "rename ", "old mode")):
        return "bold blue"
    if line.startswith(("Binary files", "\\ No newline")):
        return "italic magenta"
    return ""


def error_words(error: BaseException) -> str:
    """A failure in one line for a notice: a FleetError's message and hint, else what it says."""
    if isinstance(error, FleetError):
        return f"{error.message} ({error.hint})" if error.hint else error.message
    return str(error) or type(error).__name__
