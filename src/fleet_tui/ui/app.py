"""The live dashboard: a Textual app over the fleet's snapshots.

Threads: one worker runs the monitor loop (`source.run`) and posts every FleetSnapshot as a message
(a queued older one is dropped for the newest); diffs, file states, sends and attach preparation run
in their own thread workers and post typed messages. The UI thread only renders.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingsMap, BindingType
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from fleet_tui.adapters.tmux import run_client
from fleet_tui.engine.actions import MergeRefused
from fleet_tui.engine.fleet import Fleet
from fleet_tui.models import AgentSnapshot, FleetSnapshot, Status
from fleet_tui.settings import Settings
from fleet_tui.ui.commands import FleetCommands
from fleet_tui.ui.footer import FleetFooter
from fleet_tui.ui.format import COLUMNS, COMPACT_BELOW, COMPACT_COLUMNS, error_words, summary_text
from fleet_tui.ui.insight import InsightActions
from fleet_tui.ui.messages import AttachReady, HistoryRead, ReadingFailed, SnapshotArrived, TextSent
from fleet_tui.ui.preview import HISTORY_LINES, PanePreview
from fleet_tui.ui.roster import RosterActions
from fleet_tui.ui.screens import DiffScreen, HelpScreen, SendScreen
from fleet_tui.ui.source import FleetSource, LiveSource
from fleet_tui.ui.steer_screens import ResultScreen
from fleet_tui.ui.steering import SteeringActions, refused_details
from fleet_tui.ui.views import FilterInput, ViewActions
from fleet_tui.ui.widgets import AgentDetail, AgentTable, set_border_title

Clock = Callable[[], float]
REPEAT_ERROR_AFTER = 30.0  # the same failure is notified again only after this many seconds


def attention_key(agent: AgentSnapshot) -> str:
    """What a person acknowledges when they look at an agent: its condition, dated, so a new
    question or crash (another `status_since`) or a new drifted file is news again."""
    dated = agent.status in (Status.WAITING, Status.CRASHED)
    return f"{agent.status.value}|{int(agent.status_since) if dated else ''}|{','.join(sorted(agent.drift))}"


def attention_reason(before: AgentSnapshot | None, after: AgentSnapshot) -> str | None:
    """Why an agent needs the person now: it started waiting, crashed, or drifted since `before`
    (None: the first reading, where a present condition counts)."""
    if after.status == Status.WAITING and (before is None or before.status != Status.WAITING):
        return "is waiting for an answer"
    if after.status == Status.CRASHED and (before is None or before.status != Status.CRASHED):
        return f"crashed (exit {after.exit_code})" if after.exit_code is not None else "crashed"
    new_drift = set(after.drift) - set(before.drift if before else ())
    if new_drift:
        return "drifted: " + ", ".join(sorted(new_drift))
    if after.status == Status.READY and (before is None or before.status != Status.READY):
        return "is ready to merge: every gate passed"
    if after.needs_person and (before is None or not before.needs_person):
        return f"needs a person: {after.needs_person}"
    return None


class FleetApp(InsightActions, ViewActions, RosterActions, SteeringActions, App[None]):
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
        footer = self.query_one(FleetFooter)
        footer.compact = compact
        footer.refresh(recompose=True)  # what fits changed with the width
        self.table.set_columns(COMPACT_COLUMNS if compact else tuple(key for key, _ in COLUMNS))
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
        fresh: list[tuple[AgentSnapshot, str]] = []
        for agent in snapshot.agents:
            reason = attention_reason(before.agent(agent.name) if before else None, agent)
            if reason and before is None and self._acks.get(agent.name) == attention_key(agent):
                continue  # acknowledged in an earlier dashboard: not news now
            if reason:
                self.attention[agent.name] = reason
                if before is not None:
                    fresh.append((agent, reason))
        summary = summary_text(snapshot, self.clock())
        if summary != self._summary:  # Static.update relayouts and repaints the whole screen
            self._summary = summary
            self.query_one("#summary", Static).update(summary)
        self.redraw_agents()
        if isinstance(self.screen, DiffScreen):
            shown = snapshot.agent(self.screen.agent.name)
            if shown is not None:
                self.screen.update_agent(shown)
        self.refresh_applicable_keys()
        self._call_attention(fresh)

    def refresh_applicable_keys(self) -> None:
        """Redraw the Footer only when which keys apply changed: rebuilding it every second for
        an unchanged fleet was most of the dashboard's idle CPU."""
        state = tuple(self.applies(binding.action) for _, binding in self.merged_bindings())
        if state != self._applicable:
            self._applicable = state
            self.refresh_bindings()

    def _call_attention(self, fresh: list[tuple[AgentSnapshot, str]]) -> None:
        if not fresh:
            return
        for agent, reason in fresh:
            notice = f"{agent.name} {reason}"
            self.notices.append(notice)
            if self.source.notify:
                severity: SeverityLevel = "error" if agent.status == Status.CRASHED else "warning"
                title = "needs attention"
                if agent.status == Status.READY:
                    severity, title = "information", "ready to merge"
                self.notify(notice, title=title, severity=severity, timeout=8)
        if self.source.bell:
            self.bell()  # once per snapshot, however many agents turned

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

    def clear_attention(self, name: str | None) -> None:
        if name and self.attention.pop(name, None) is not None and self.snapshot is not None:
            agent = self.snapshot.agent(name)
            if agent is not None:
                self._acks[name] = attention_key(agent)
                self.save_ack(name, self._acks[name])
            self.redraw_agents()

    @work(thread=True, group="acks", exit_on_error=False)
    def save_ack(self, name: str, key: str) -> None:
        try:
            self.source.acknowledge(name, key)
        except Exception as exc:  # the dashboard works on; only a reopen would ask again
            self.post_message(ReadingFailed("remembering what was seen", str(exc)))

    @on(DataTable.RowHighlighted, "#agents")
    def _agent_highlighted(self, event: DataTable.RowHighlighted) -> None:
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

    def action_send(self) -> None:
        agent = self.selected_agent
        if agent is None or not self.applies("send"):
            return
        self.clear_attention(agent.name)

        def sent(text: str | None) -> None:
            if text:
                self.send_text(agent, text)

        self.push_screen(SendScreen(agent.name), sent)

    def action_attach(self) -> None:
        agent = self.selected_agent
        if agent is None or not self.applies("attach"):
            return
        self.clear_attention(agent.name)
        self.prepare_attach(agent)

    # -- workers: tmux runs here, in threads ---------------------------------------------------

    @work(thread=True, exclusive=True, group="send", exit_on_error=False, name="sending")
    def send_text(self, agent: AgentSnapshot, text: str) -> None:
        self.source.send(agent, text)
        self.post_message(TextSent(agent.name, text))

    def on_pane_preview_history_wanted(self, message: PanePreview.HistoryWanted) -> None:
        agent = self.selected_agent
        if agent is not None and agent.pane_id is not None:
            self.read_history(agent)
        else:
            message.preview.show_history(agent.screen if agent else "")

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def read_history(self, agent: AgentSnapshot) -> None:
        try:
            text = self.source.pane_history(agent, HISTORY_LINES)
        except Exception as exc:
            self.post_message(ReadingFailed(f"reading the history of {agent.name}", str(exc)))
            return
        self.post_message(HistoryRead(agent.name, text))

    def on_history_read(self, message: HistoryRead) -> None:
        if message.agent == self.selected_name:
            self.query_one(PanePreview).show_history(message.text)

    @work(thread=True, exclusive=True, group="attach", exit_on_error=False, name="attaching")
    def prepare_attach(self, agent: AgentSnapshot) -> None:
        argv, env = self.source.attach_command(agent)
        self.post_message(AttachReady(agent.name, argv, env))

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

    def on_text_sent(self, message: TextSent) -> None:
        first = message.text.splitlines()[0] if message.text.strip() else message.text
        more = " …" if "\n" in message.text.strip() else ""
        self.notify(f"sent to {message.agent}: {first[:60]}{more}", timeout=4)
        self.request_refresh([message.agent])

    def on_attach_ready(self, message: AttachReady) -> None:
        try:
            code = self.run_client(message.argv, message.env)
        except SuspendNotSupported:
            self.notify("this terminal cannot hand over to tmux: use `fleet-tui attach`", severity="error")
            return
        except OSError as exc:
            self.notify(f"could not start tmux: {exc}", severity="error")
            return
        if code:
            self.notify(f"tmux ended with code {code} (is the fleet up?)", severity="warning")
        self.request_refresh()
        self.refresh(layout=True)

    def run_client(self, argv: list[str], env: dict[str, str]) -> int:
        """Hand the terminal to a tmux client until the person detaches. The UI thread waits here on
        purpose: the app is suspended, there is nothing to draw."""
        with self.suspend():
            return run_client(argv, env)

    def on_reading_failed(self, message: ReadingFailed) -> None:
        text = f"{message.what}: {message.error}"
        now = time.monotonic()
        if now - self._errors.get(text, -REPEAT_ERROR_AFTER) < REPEAT_ERROR_AFTER:
            return
        self._errors[text] = now
        self.notify(text, title="fleet-tui", severity="error", timeout=8)


def run_dashboard(fleet: Fleet, settings: Settings | None = None, settings_file: Path | None = None) -> None:
    """Open the dashboard on a live fleet (blocks until the person quits)."""
    FleetApp(LiveSource(fleet, supervised=True), settings=settings, settings_file=settings_file).run()
