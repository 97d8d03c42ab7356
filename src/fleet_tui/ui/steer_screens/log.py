"""The event log screen, newest first, filtered by agent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Select, Static
from textual.worker import Worker

from fleet_tui.engine.state import Event
from fleet_tui.engine.text import format_details, format_time, plural
from fleet_tui.ui.footer import FittingFooter
from fleet_tui.ui.format import COMPACT_BELOW, truncate
from fleet_tui.ui.host import Dashboard, dashboard
from fleet_tui.ui.steer_screens.base import ALL_AGENTS, STEER_CSS

# -- the event log ----------------------------------------------------------------------------------


@dataclass
class EventsRead(Message):
    events: list[Event]


class LogScreen(Screen[None]):
    """The event log, newest first, filterable by agent; re-read every few seconds."""

    DEFAULT_CSS = STEER_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,l", "back", "Back", id="log.back"),
        Binding("a", "all_agents", "All agents", id="log.all"),
    ]
    REFRESH_EVERY = 2.0

    def __init__(self, agents: list[str], agent: str | None = None) -> None:
        super().__init__()
        self.agents = agents
        self.filter = agent or ALL_AGENTS
        self.events: list[Event] = []
        self._shown_width = -1

    @property
    def fleet_app(self) -> Dashboard:
        return dashboard(self)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: hand them to the app's one failure handler."""
        self.fleet_app.on_worker_state_changed(event)

    def compose(self) -> ComposeResult:
        with Horizontal(id="log-filter"):
            yield Static("event log · agent:", id="log-label")
            options = [("all agents", ALL_AGENTS), *[(name, name) for name in self.agents]]
            yield Select(options, value=self.filter, allow_blank=False, id="log-agent")
            yield Static("", id="log-count")
        yield DataTable(id="log-table", cursor_type="row", zebra_stripes=True)
        yield FittingFooter()

    def on_mount(self) -> None:
        table = self.query_one("#log-table", DataTable)
        for key, label in (("time", "time"), ("agent", "agent"), ("event", "event"), ("details", "details")):
            table.add_column(label, key=key)
        table.focus()
        self.read_events()
        self.set_interval(self.REFRESH_EVERY, self.read_events)

    @work(thread=True, exclusive=True, group="steer-log", exit_on_error=False, name="reading the event log")
    def read_events(self) -> None:
        self.post_message(EventsRead(self.fleet_app.source.events()))

    def on_events_read(self, message: EventsRead) -> None:
        self.events = message.events
        self.show()

    def shown_events(self) -> list[Event]:
        if self.filter == ALL_AGENTS:
            return self.events
        return [e for e in self.events if e.agent == self.filter]

    def show(self) -> None:
        """Redraw only when the events changed, keeping the cursor on the event it was on (the log
        is re-read every few seconds); details cut to the width there is, with an ellipsis."""
        table = self.query_one("#log-table", DataTable)
        events = self.shown_events()
        keys = [f"{e.time!r}:{i}" for i, e in enumerate(reversed(events))]  # stable as events arrive
        keys.reverse()
        if keys == [str(k.value) for k in table.rows] and self._shown_width == self.size.width:
            return
        self._shown_width = self.size.width
        selected = None
        if table.row_count:
            selected = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        agent_w = max([len("agent"), *(len(e.agent or "(fleet)") for e in events)])
        event_w = max([len("event"), *(len(e.event) for e in events)])
        # A narrow terminal shows the time of day only (the day is nearly always today), so the
        # details keep some room; the full date and time is in `fleet-tui log`.
        narrow = self.size.width < COMPACT_BELOW
        time_w = 8 if narrow else 19
        room = max(10, self.size.width - time_w - agent_w - event_w - 8 - 2)  # 4 cells' padding, scrollbar
        table.clear()
        for key, event in zip(keys, events, strict=True):
            table.add_row(
                format_time(event.time)[-time_w:],
                Text(event.agent or "(fleet)"),
                Text(event.event),
                Text(truncate(format_details(event.details), room)),
                key=key,
            )
        if selected in keys:
            table.move_cursor(row=keys.index(selected), animate=False)
        count = plural(table.row_count, "event")
        self.query_one("#log-count", Static).update(count if narrow else f"{count}, newest first")
        self.query_one("#log-label", Static).update("log · agent:" if narrow else "event log · agent:")

    @on(Select.Changed, "#log-agent")
    def _filter_changed(self, event: Select.Changed) -> None:
        self.filter = str(event.value)
        self.show()

    def action_all_agents(self) -> None:
        self.query_one("#log-agent", Select).value = ALL_AGENTS

    def action_back(self) -> None:
        self.dismiss()
