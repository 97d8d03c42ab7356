"""Screens over the main view: the diff inspector, the help screen, the send input."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Label, Static, TextArea
from textual.worker import Worker, get_current_worker

from fleet_tui.engine.text import plural, shown_path
from fleet_tui.models import AgentSnapshot, FileChange
from fleet_tui.ui.difflines import DiffLines
from fleet_tui.ui.footer import FittingFooter
from fleet_tui.ui.format import COMPACT_BELOW, change_lines, scope_mark, state_text, status_text
from fleet_tui.ui.host import Dashboard, dashboard
from fleet_tui.ui.messages import DiffRead, FileStatesRead, ReadingFailed
from fleet_tui.ui.widgets import DiffView

FILE_COLUMNS = (("path", "file"), ("lines", "+/-"), ("state", "state"), ("mark", "scope"))


def split_diff(text: str) -> tuple[DiffLines, int]:
    """Display lines of a diff (tabs expanded) and the widest one, in cells."""
    lines = DiffLines(text)
    return lines, lines.width()


class DiffScreen(Screen[None]):
    """The selected agent's changed files and, for the highlighted one, its diff."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="diff.back"),
        Binding("tab", "app.focus_next", "Files/diff", id="diff.focus"),
    ]

    def __init__(self, agent: AgentSnapshot) -> None:
        super().__init__()
        self.agent = agent
        self.states: dict[str, tuple[str, ...]] | None = None
        self.shown: str | None = None  # the path whose diff is on screen
        self.view = DiffView(id="diff")

    @property
    def fleet_app(self) -> Dashboard:
        return dashboard(self)

    def compose(self) -> ComposeResult:
        yield Static(id="diff-header")
        with Horizontal(id="diff-body"):
            yield DataTable(id="files", cursor_type="row")
            yield self.view
        yield FittingFooter()

    def on_mount(self) -> None:
        table = self.query_one("#files", DataTable)
        for key, label in FILE_COLUMNS:
            table.add_column(label, key=key)
        self.update_agent(self.agent)
        drifted = [i for i, f in enumerate(self.agent.files) if f.path in set(self.agent.drift)]
        if drifted:  # the file that needs looking at first: outside the agent's scope
            table.move_cursor(row=drifted[0], animate=False)
        self.read_states()
        table.focus()

    def on_resize(self) -> None:
        """Below COMPACT_BELOW columns the file list goes above the diff, both full width (side by
        side, at 60 columns the list lost its state column and the diff was 22 columns wide)."""
        compact = self.app.size.width < COMPACT_BELOW
        self.query_one("#diff-body").styles.layout = "vertical" if compact else "horizontal"
        files = self.query_one("#files", DataTable).styles
        files.width, files.max_width = ("1fr", "100%") if compact else ("auto", "60%")
        files.height, files.max_height = ("auto", "40%") if compact else ("1fr", "100%")

    def change(self, path: str) -> FileChange | None:
        return next((f for f in self.agent.files if f.path == path), None)

    def update_agent(self, agent: AgentSnapshot) -> None:
        """Show the agent's files (called again with every new snapshot while the screen is open)."""
        self.agent = agent
        header = Text()
        header.append(f" {agent.name} ", style="bold reverse")
        header.append(f"  {agent.branch}  ")
        header.append_text(status_text(agent, self.fleet_app.clock()))
        header.append(f"   {plural(len(agent.files), 'file')}  +{agent.added} -{agent.removed}")
        header.append(f"  {plural(agent.commits_ahead, 'commit')} ahead  ")
        header.append(f"{len(agent.drift)} drifted", style="bold red" if agent.drift else "dim")
        self.query_one("#diff-header", Static).update(header)
        table = self.query_one("#files", DataTable)
        current = [str(key.value) for key in table.rows]
        wanted = [f.path for f in agent.files]
        if current != wanted:
            selected = self._selected_path()
            table.clear()
            for change in agent.files:
                table.add_row(*self._cells(change), key=change.path)
            if selected in wanted:
                table.move_cursor(row=wanted.index(selected), animate=False)
        else:
            for change in agent.files:
                for (key, _), cell in zip(FILE_COLUMNS, self._cells(change), strict=True):
                    table.update_cell(change.path, key, cell, update_width=True)
        if not agent.files:
            self.query_one(DiffView).show(["no changes against base yet"], 30)

    def _cells(self, change: FileChange) -> tuple[Text, ...]:
        states = None if self.states is None else self.states.get(change.path, ())
        path = Text(shown_path(change.path))
        if change.old_path:
            path = Text(f"{shown_path(change.old_path)} → {shown_path(change.path)}")
        return (path, change_lines(change), state_text(states, change), scope_mark(self.agent, change))

    def _selected_path(self) -> str | None:
        table = self.query_one("#files", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value)

    # -- workers: git runs here, in threads ----------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: hand them to the app's one failure handler."""
        self.fleet_app.on_worker_state_changed(event)

    @work(thread=True, exclusive=True, group="file-states", exit_on_error=False, name="reading file states")
    def read_states(self) -> None:
        agent = self.agent
        self.post_message(FileStatesRead(agent.name, self.fleet_app.source.file_states(agent)))

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False, name="reading the diff")
    def read_diff(self, change: FileChange) -> None:
        agent = self.agent
        text = self.fleet_app.source.diff(agent, change)
        if get_current_worker().is_cancelled:
            return  # the person already moved on to another file
        if change.binary and not text.strip():
            text = f"Binary file {change.path}: no text diff"
        lines, width = split_diff(text or f"no diff for {change.path}")
        self.post_message(DiffRead(agent.name, change.path, lines, width))

    # -- events ----------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#files")
    def _file_highlighted(self, event: DataTable.RowHighlighted) -> None:
        change = self.change(str(event.row_key.value))
        if change is not None and change.path != self.shown:
            self.shown = change.path
            self.query_one(DiffView).border_title = Text(f"{shown_path(change.path)} (reading…)")
            self.read_diff(change)

    @on(DataTable.RowSelected, "#files")
    def _file_selected(self) -> None:
        self.query_one(DiffView).focus()

    def on_file_states_read(self, message: FileStatesRead) -> None:
        if message.agent == self.agent.name:
            self.states = message.states
            self.update_agent(self.agent)

    def on_diff_read(self, message: DiffRead) -> None:
        if message.path != self.shown:
            return
        view = self.query_one(DiffView)
        view.border_title = Text(f"{shown_path(message.path)} · {plural(len(message.lines), 'line')}")
        view.show(message.lines, message.width)

    def on_reading_failed(self, message: ReadingFailed) -> None:
        self.app.post_message(ReadingFailed(message.what, message.error))

    def action_back(self) -> None:
        self.dismiss()

    def on_unmount(self) -> None:
        # Closed: the diff (and the agent's file list) go now, not whenever Textual drops the screen.
        self.view.release()
        self.shown = None


def key_rows(app: Dashboard) -> list[tuple[str, str, str, bool]]:
    """(section, key, what it does, applies now) for every key, read from the live bindings, so
    keys added later (steering) appear without touching this screen."""
    rows: list[tuple[str, str, str, bool]] = []
    seen: set[tuple[str, str]] = set()

    def add(section: str, bindings: BindingsMap, check: bool) -> None:
        for key, binding in bindings:
            if not binding.description or (key, binding.action) in seen:
                continue
            seen.add((key, binding.action))
            applies = bool(app.applies(binding.action)) if check else True
            rows.append((section, app.get_key_display(binding), binding.description, applies))

    add("dashboard", app.merged_bindings(), True)
    rows.append(("dashboard", "ctrl+p", "Command palette: every action, and 'select agent'", True))
    rows.append(("dashboard", "↑ ↓ pgup pgdn", "Move between agents (or click a row)", True))
    rows.append(("dashboard", "enter", "Diff inspector (or click the selected row)", True))
    add("diff inspector", BindingsMap(DiffScreen.BINDINGS), False)
    rows.append(("diff inspector", "↑ ↓", "Move between files (or click one): shows its diff", True))
    add("send", BindingsMap(SendScreen.BINDINGS), False)
    rows.append(("send", "enter", "Send the line (single-line mode)", True))
    return rows


class HelpScreen(ModalScreen[None]):
    """Every key, with dimmed ones that do not apply to the selected agent right now."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        app = dashboard(self)
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("where", style="dim", no_wrap=True)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("does")
        section = ""
        for where, key, description, applies in key_rows(app):
            label = where if where != section else ""
            section = where
            does = Text(description) if applies else Text(f"{description} (not for this agent)", style="dim")
            table.add_row(label, Text(key, style="" if applies else "dim"), does)
        with Vertical(id="help-box") as box:
            box.border_title = "fleet-tui keys"
            box.border_subtitle = "esc closes"
            with VerticalScroll():
                yield Static(table)
                yield Static(
                    Text(
                        "Mouse: click an agent to select it, click it again for its diff; "
                        "click a file in the diff inspector to see its diff.\n"
                        "ctrl+p opens the command palette: every key above, and 'select agent'.",
                        style="dim",
                    ),
                    id="help-mouse",
                )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


class SendScreen(ModalScreen[str | None]):
    """Text for an agent's pane: one line (enter sends) or several (ctrl+t switches, ctrl+s sends)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="send.cancel"),
        Binding("ctrl+t", "toggle_multiline", "Multi-line", id="send.multiline"),
        Binding("ctrl+s", "send", "Send", id="send.send"),
    ]

    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent
        self.multiline = False

    def compose(self) -> ComposeResult:
        with Vertical(id="send-box") as box:
            box.border_title = f"send to {self.agent}"
            box.border_subtitle = "pasted verbatim into its pane, then enter"
            yield Input(placeholder="answer or instruction, e.g. y", id="send-line")
            yield TextArea(id="send-text", soft_wrap=True, show_line_numbers=False)
            yield Label("enter sends · ctrl+t multi-line · esc cancels", id="send-hint")

    def on_mount(self) -> None:
        self.query_one("#send-text", TextArea).display = False
        self.query_one("#send-line", Input).focus()

    @on(Input.Submitted, "#send-line")
    def _submitted(self) -> None:
        self.action_send()

    def text(self) -> str:
        if self.multiline:
            return self.query_one("#send-text", TextArea).text
        return self.query_one("#send-line", Input).value

    def action_send(self) -> None:
        text = self.text()
        if text.strip():
            self.dismiss(text)
        else:
            self.notify("nothing to send: type something first, or esc to cancel", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_toggle_multiline(self) -> None:
        line = self.query_one("#send-line", Input)
        area = self.query_one("#send-text", TextArea)
        hint = self.query_one("#send-hint", Label)
        self.multiline = not self.multiline
        if self.multiline:
            area.text = line.value
            line.display, area.display = False, True
            hint.update("ctrl+s sends · enter starts a new line · ctrl+t one line · esc cancels")
            area.focus()
        else:
            line.value = area.text.replace("\n", " ")
            line.display, area.display = True, False
            hint.update("enter sends · ctrl+t multi-line · esc cancels")
            line.focus()
