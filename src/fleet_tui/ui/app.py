"""The live dashboard: a Textual app over the fleet's snapshots.

Threads: one worker runs the monitor loop (`source.run`) and posts every FleetSnapshot as a message
(a queued older one is dropped for the newest); diffs, file states, sends and attach preparation run
in their own thread workers and post typed messages. The UI thread only renders.

The app is the layout, the monitor, the selection and which keys apply; each job of its keys is a
mixin of its own: the pane (send, attach, history: ui/panes.py), attention (ui/noticing.py),
steering (ui/steering.py), the roster (ui/roster.py), filter/sort/settings (ui/views.py), the
timeline and inbox (ui/insight.py).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap, BindingType
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from fleet_tui.engine.actions import MergeRefused
from fleet_tui.engine.fleet import Fleet
from fleet_tui.models import AgentSnapshot, FleetSnapshot
from fleet_tui.settings import Settings
from fleet_tui.ui.commands import FleetCommands
from fleet_tui.ui.footer import FleetFooter
from fleet_tui.ui.format import (
    COLUMNS,
    COMPACT_BELOW,
    COMPACT_COLUMNS,
    error_words,
    summary_text,
    table_clock,
)
from fleet_tui.ui.insight import InsightActions
from fleet_tui.ui.messages import ReadingFailed, SnapshotArrived
from fleet_tui.ui.noticing import Noticing
from fleet_tui.ui.panes import PaneActions
from fleet_tui.ui.preview import PanePreview
from fleet_tui.ui.roster import RosterActions
from fleet_tui.ui.screens import DiffScreen, HelpScreen
from fleet_tui.ui.source import FleetSource, LiveSource
from fleet_tui.ui.steer_screens import ResultScreen
from fleet_tui.ui.steering import SteeringActions, refused_details
from fleet_tui.ui.views import FilterInput, ViewActions
from fleet_tui.ui.widgets import AgentDetail, AgentTable, set_border_title

Clock = Callable[[], float]
REPEAT_ERROR_AFTER = 30.0  # the same failure is notified again only after this many seconds


class FleetApp(Noticing, PaneActions, InsightActions, ViewActions, RosterActions, SteeringActions, App[None]):
    """fleet-tui's dashboard. Build it on a `FleetSource`: `LiveSource(fleet)` for a real fleet,
    the in-memory one of tests/memory_fleet.py for tests without tmux."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "fleet-tui"
    COMMANDS = App.COMMANDS | {FleetCommands}
    AGENT_ACTIONS: ClassVar[frozenset[str]] = frozenset({"diff", "attach", "send"})
    # Actions that act on the selected agent (the palette names it): the app's and steering's.
    TARGETED_ACTIONS: ClassVar[frozenset[str]] = AGENT_ACTIONS | {"kill", "restart", "merge", "sync"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "diff", "Diff", id="diff", tooltip="Changed files of the agent and their diffs"),
        Binding("a", "attach", "Attach", id="attach", tooltip="Open the agent's tmux pane, zoomed"),
        Binding("s", "send", "Send", id="send", tooltip="Paste text into the agent's pane and press enter"),
        Binding("question_mark", "help", "Keys", id="help", key_display="?", tooltip="Every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Close the dashboard; the agents keep running"),
        # Steering keys (kill, restart, merge, merge queue, event log) come from SteeringActions.
        *SteeringActions.BINDINGS,
        *RosterActions.BINDINGS,  # n adds an agent, x removes one
        *ViewActions.BINDINGS,  # / filters, o sorts
        *InsightActions.BINDINGS,  # timeline, attention queue
    ]

    def __init__(
        self,
        source: FleetSource,
        clock: Clock = time.time,
        settings: Settings | None = None,
        settings_file: Path | None = None,
    ) -> None:
        super().__init__()
        self._settings = settings or Settings()
        self._settings_file = settings_file  # None: the palette's theme is not saved (tests)
        self.source = source
        self.fleet: Fleet | None = source.fleet
        self.clock = clock
        self.snapshot: FleetSnapshot | None = None
        self.attention: dict[str, str] = {}
        self._acks: dict[str, str] = {}  # agent -> the attention_key the person already looked at
        self.notices: list[str] = []  # every attention notice, in order (tests read it)
        self._stop = threading.Event()
        self._errors: dict[str, float] = {}
        self._applicable: tuple[bool, ...] = ()  # which keys applied when the Footer was last drawn
        self._summary: Text | None = None  # the summary line as last drawn
        self._drawn_at: float | None = None  # the table clock the agents were last drawn at
        # The real dashboard moves what it holds after its first full picture out of the garbage
        # collector's sight (gc.freeze): a full collection of ~170,000 objects (widgets, models,
        # styles) once stalled a key press by 0.4 s. Off in tests, where many apps share a process.
        self.settle_heap = False
        self.heap_settled = False

    # -- layout --------------------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notice carries data (agent names, file names, sent text, git errors): it is shown
        as text, never parsed as markup, whoever calls it (a screen's notify passes markup=True)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def compose(self) -> ComposeResult:
        yield Static("reading the fleet…", id="summary")
        yield FilterInput(
            placeholder="filter: name, status or file (enter keeps it, esc clears)", id="filter"
        )
        yield AgentTable(id="agents")
        with Horizontal(id="bottom"):
            yield PanePreview(id="pane")
            yield AgentDetail(id="detail")
        yield FleetFooter()

    def on_mount(self) -> None:
        self._acks = self.source.acknowledged()  # a small file in .fleet/, read once
        self.query_one(FilterInput).display = False
        self.apply_settings(self._settings, self._settings_file)
        self.query_one(PanePreview).border_title = "pane"
        self.query_one(AgentDetail).show(None)
        self.table.focus()
        self.watch_fleet()

    def on_unmount(self) -> None:
        self._stop.set()
        self.source.wake()

    @property
    def table(self) -> AgentTable:
        return self.query_one(AgentTable)

    # -- the monitor ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="monitor", exit_on_error=False, name="monitor")
    def watch_fleet(self) -> None:
        """Runs in its own thread for the app's lifetime: the monitor loop posts every snapshot."""
        self.source.run(
            lambda snapshot: self.post_message(SnapshotArrived(snapshot)),
            self._stop,
            lambda error: self.post_message(ReadingFailed("reading the fleet", error)),
        )

    def on_resize(self, event: events.Resize) -> None:
        """Below COMPACT_BELOW columns: fewer table columns, the preview full width with the detail
        panel left out, a compact Footer; at every width the last line takes the free space."""
        compact = event.size.width < COMPACT_BELOW
        self.set_class(compact, "-compact")
        # Styles set here rather than by a stylesheet rule on the app's class: a class change made
        # while another screen is on top (the event log, say), or at the very first resize, did
        # not restyle the dashboard's widgets, which kept the other layout.
        self.query_one("#summary", Static).styles.height = "auto" if compact else 1
        self.query_one(AgentDetail).display = not compact
        self.query_one(PanePreview).styles.width = "1fr" if compact else "2fr"
        footer = self.query_one(FleetFooter)
        footer.compact = compact
        footer.refresh(recompose=True)  # what fits changed with the width
        self.table.want_columns(COMPACT_COLUMNS if compact else tuple(key for key, _ in COLUMNS))
        self.show_summary()
        self.call_after_refresh(self._fit_table)

    def _fit_table(self) -> None:
        if self.table.fit_last_column() or not self.table.row_count:
            self.redraw_agents()

    def swap_fleet(self, fleet: Fleet) -> None:
        """The fleet file changed (an agent added or removed): read the fleet it describes now."""
        self.fleet = fleet
        self.source.reload(fleet)
        self.refresh_bindings()

    def request_refresh(self, names: list[str] | None = None) -> None:
        """Ask the monitor for fresh git readings now (all agents when None). Never blocks."""
        self.source.refresh(names)

    def on_snapshot_arrived(self, message: SnapshotArrived) -> None:
        before, snapshot = self.snapshot, message.snapshot
        self.snapshot = snapshot
        drawn_at = table_clock(self.clock())
        if before is not None and snapshot.agents is before.agents and drawn_at == self._drawn_at:
            # Only the picture's time moved (the supervisor's heartbeat, every second or two):
            # the summary may say so; the agents, their panels and the keys are as drawn.
            self.table.cell_updates = 0  # this snapshot rewrote no cell (tests and the bench read it)
            self.show_summary()
            return
        self._drawn_at = drawn_at
        if self.settle_heap and not self.heap_settled and not any(a.git_pending for a in snapshot.agents):
            self.heap_settled = True
            self.call_after_refresh(settle_heap)
        self.notice_changes(before, snapshot)
        self.show_summary()
        self.redraw_agents()
        if isinstance(self.screen, DiffScreen):
            shown = snapshot.agent(self.screen.agent.name)
            if shown is not None:
                self.screen.update_agent(shown)
        self.refresh_applicable_keys()

    def show_summary(self) -> None:
        if self.snapshot is None:
            return
        summary = summary_text(self.snapshot, self.clock(), compact=self.has_class("-compact"))
        if summary != self._summary:  # Static.update relayouts and repaints the whole screen
            self._summary = summary
            widget = self.query_one("#summary", Static)
            widget.update(summary)
            if self.has_class("-compact"):
                # Its height follows its text here; in a real terminal the layout that update()
                # asks for kept the first height (one row, the rest cut): measure it once more.
                self.call_after_refresh(widget.refresh, layout=True)

    def refresh_applicable_keys(self) -> None:
        """Redraw the Footer only when which keys apply changed: rebuilding it every second for
        an unchanged fleet was most of the dashboard's idle CPU."""
        state = tuple(self.applies(binding.action) for _, binding in self.merged_bindings())
        if state != self._applicable:
            self._applicable = state
            self.refresh_bindings()

    # -- selection -----------------------------------------------------------------------------

    @property
    def selected_name(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @property
    def selected_agent(self) -> AgentSnapshot | None:
        name = self.selected_name
        if name is None or self.snapshot is None:
            return None
        return self.snapshot.agent(name)

    def select_agent(self, name: str) -> None:
        if isinstance(self.screen, DiffScreen):
            self.screen.dismiss()
        self.table.move_cursor(row=self.table.get_row_index(name), animate=False)
        self.table.focus()

    def show_selected(self) -> None:
        agent = self.selected_agent
        pane = self.query_one(PanePreview)
        if agent is None:
            pane.show("", "pane")
        else:
            where = f"pane {agent.pane_id}" if agent.pane_id else "no pane"
            pane.show(agent.screen, f"{agent.name} · {where} · a attaches")
        self.query_one(AgentDetail).show(agent)

    def redraw_agents(self) -> None:
        """The table through the filter and the sort, then the selected agent's panels."""
        if self.snapshot is not None:
            shown = self.visible_agents(self.snapshot)
            self.table.sync(shown, self.clock(), set(self.attention))
            set_border_title(self.table, self.arrangement_title(len(shown), len(self.snapshot.agents)))
        self.show_selected()

    @on(DataTable.RowHighlighted, "#agents")
    def _agent_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.source.show(str(event.row_key.value))  # the supervisor notifies about the others only
        self.clear_attention(str(event.row_key.value))
        self.show_selected()
        self.refresh_applicable_keys()  # not refresh_bindings(): the Footer changes only on change

    @on(DataTable.RowSelected, "#agents")
    def _agent_selected(self) -> None:
        self.action_diff()

    # -- which keys apply ----------------------------------------------------------------------

    def applies(self, action: str) -> bool:
        """Does this action make sense for the selected agent right now?"""
        in_roster = self.roster_applies(action)
        if in_roster is not None:
            return in_roster
        steering = self.steering_applies(action)
        if steering is not None:
            return steering
        insight = self.insight_applies(action)
        if insight is not None:
            return insight
        return self.source.permit(action, self.selected_agent).ok

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        in_roster = self.roster_applies(action)
        if in_roster is not None:
            return True if in_roster else None
        if action in self.AGENT_ACTIONS:
            if action == "diff" and isinstance(self.screen, DiffScreen):
                return False
            return True if self.applies(action) else None
        return super().check_action(action, parameters)

    def merged_bindings(self) -> BindingsMap:
        """All of the app's bindings, its base classes' and the steering mixin's included."""
        bindings: list[BindingType] = []
        for base in type(self).__mro__:  # the app's own first, then what it inherits
            bindings.extend(base.__dict__.get("BINDINGS", []))
        return BindingsMap(bindings)

    # -- actions -------------------------------------------------------------------------------

    def action_diff(self) -> None:
        agent = self.selected_agent
        if agent is None or not self.applies("diff"):
            return
        self.clear_attention(agent.name)
        self.push_screen(DiffScreen(agent))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker's failure, in one place: the screen that started it shows it if it can
        (`worker_failed`), a refused merge gets its full result screen, anything else a notice."""
        if event.state != WorkerState.ERROR:
            return
        worker, error = event.worker, event.worker.error
        if error is None:
            return
        shown_by = getattr(worker.node, "worker_failed", None)
        if callable(shown_by):
            shown_by(error)
        elif isinstance(error, MergeRefused):
            self.push_screen(ResultScreen(error.message.split(":")[0], refused_details(error)))
        else:
            self.post_message(ReadingFailed(worker.name or "a background task", error_words(error)))
        self.request_refresh()
        self.refresh_bindings()

    # -- results -------------------------------------------------------------------------------

    def on_reading_failed(self, message: ReadingFailed) -> None:
        text = f"{message.what}: {message.error}"
        now = time.monotonic()
        if now - self._errors.get(text, -REPEAT_ERROR_AFTER) < REPEAT_ERROR_AFTER:
            return
        self._errors[text] = now
        self.notify(text, title="fleet-tui", severity="error", timeout=8)


def run_dashboard(fleet: Fleet, settings: Settings | None = None, settings_file: Path | None = None) -> None:
    """Open the dashboard on a live fleet (blocks until the person quits)."""
    app = FleetApp(LiveSource(fleet, supervised=True), settings=settings, settings_file=settings_file)
    app.settle_heap = True
    app.run()


def settle_heap() -> None:
    """Collect once, then freeze what is left: the collector's full passes then walk only what the
    dashboard made since (snapshots come and go by reference counting), not its whole heap."""
    gc.collect()
    gc.freeze()
