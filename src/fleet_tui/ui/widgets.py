"""The dashboard's widgets: agent table, the selected agent's files, a diff view (and, from
ui/preview.py, the pane preview)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, Static

from fleet_tui.engine.text import shown_path
from fleet_tui.models import AgentSnapshot
from fleet_tui.ui.format import (
    COLUMNS,
    DROP_ORDER,
    LAST_LINE_MIN,
    LAST_LINE_WIDTH,
    NAME_MIN,
    Cells,
    diff_line_style,
    gate_lines,
    overlap_names,
    row_cells,
    row_clock,
    status_word,
    table_clock,
)
from fleet_tui.ui.preview import PanePreview as PanePreview  # re-exported: it lived here


def set_border_title(widget: Widget, title: str) -> None:
    """Set a border title only when it differs: setting it repaints the widget even when equal,
    which repainted the table, the pane and the detail panel on every unchanged snapshot."""
    if widget.border_title != title:
        widget.border_title = title


class AgentTable(DataTable[Text]):
    """One row per agent, keyed by name: rows stay put across refreshes and only changed cells are
    written (DataTable.update_cell), so the cursor and the scroll position never jump."""

    # Home/End go to the first/last agent (DataTable's own scroll sideways, which moves nothing here).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "first_agent", "First agent", id="table.first", show=False),
        Binding("end", "last_agent", "Last agent", id="table.last", show=False),
    ]

    def action_first_agent(self) -> None:
        if self.row_count:
            self.move_cursor(row=0, animate=False)

    def action_last_agent(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self._cells: dict[str, Cells] = {}
        self._inputs: dict[str, tuple[object, ...]] = {}  # what each row was last drawn from
        self._widths: dict[str, int] = {}
        self.cell_updates = 0  # how many cells the last sync rewrote (tests and the benchmark read it)
        self._order: list[str] = []  # row keys, top to bottom
        self._reselect: str | None = None  # the row to put the cursor back on after a re-sort
        self.shown: tuple[str, ...] = tuple(key for key, _ in COLUMNS)  # column keys on screen
        self.wanted = self.shown  # the layout's columns; `shown` leaves out those that do not fit
        self.name_width: int | None = None  # names cut to this on a narrow terminal
        self.last_width = LAST_LINE_WIDTH
        self._last_sync: tuple[Sequence[AgentSnapshot], float, set[str]] | None = None

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for key, label in COLUMNS:
            if key in self.shown:
                self.add_column(label, key=key, width=self.last_width if key == "last" else None)

    def _forget_rows(self) -> None:
        self._cells.clear()
        self._inputs.clear()
        self._order = []

    def set_columns(self, shown: tuple[str, ...], force: bool = False) -> None:
        """Show only these columns; rows are drawn again at the next sync."""
        if shown == self.shown and not force:
            return
        self._reselect = self._selected()
        self.shown = shown
        self.clear(columns=True)
        self._forget_rows()
        self._add_columns()

    def want_columns(self, wanted: tuple[str, ...]) -> None:
        """The columns of the layout (all, or the compact ones); those that do not fit beside a
        readable last line are left out, least telling first (DROP_ORDER)."""
        self.wanted = wanted
        self.fit_last_column()

    def _column_width(self, key: str) -> int:
        return max(self._widths.get(key, 0), len(dict(COLUMNS)[key])) + 2 * self.cell_padding

    def _fitting(self, inner: int) -> tuple[str, ...]:
        shown = list(self.wanted)
        for key in DROP_ORDER:
            need = sum(self._column_width(k) for k in shown if k != "last") + LAST_LINE_MIN
            if need + 2 * self.cell_padding <= inner:
                break
            if key in shown:
                shown.remove(key)
        return tuple(shown)

    def fit_last_column(self) -> bool:
        """Give the last-line column the width the other columns leave free (leaving columns out,
        then cutting long names, when even the narrowest last line would not fit); True if
        anything changed."""
        # Inside the border, beside the scrollbar; one cell short of it: rows exactly as wide as
        # the table made its auto height keep an empty row (a horizontal scrollbar's room).
        inner = self.scrollable_content_region.width - 1
        if inner <= 0:
            return False
        shown = self._fitting(inner)
        used = sum(self._column_width(key) for key in shown if key != "last")
        over = used + LAST_LINE_MIN + 2 * self.cell_padding - inner
        name_width = None
        if over > 0 and "agent" in shown:  # 2 cells of the agent column are the attention mark
            name_width = max(NAME_MIN, self._column_width("agent") - 2 * self.cell_padding - 2 - over)
            used -= self._column_width("agent") - (name_width + 2 + 2 * self.cell_padding)
        width = max(LAST_LINE_MIN, inner - used - 2 * self.cell_padding)
        if (shown, width, name_width) == (self.shown, self.last_width, self.name_width):
            return False
        if shown != self.shown or name_width != self.name_width:
            self.set_columns(shown, force=True)  # columns measured again, with the names as cut
        self.last_width, self.name_width = width, name_width
        if "last" in self.columns:
            self.columns["last"].width = width  # type: ignore[index]
            self.columns["last"].auto_width = False  # type: ignore[index]
        self._inputs.clear()  # the last lines are cut again at the new width
        self._require_update_dimensions = True
        if self._last_sync is not None:
            self.sync(*self._last_sync)
        self.refresh()
        return True

    def on_resize(self) -> None:
        self.fit_last_column()

    def sync(self, agents: Sequence[AgentSnapshot], now: float, attention: set[str]) -> None:
        self._last_sync = (agents, now, attention)
        self.cell_updates = 0
        rows_before = self.row_count
        now = table_clock(now)
        grew = not self._cells  # a first drawing measures every column
        names = {a.name for a in agents}
        for name in [n for n in self._cells if n not in names]:
            self.remove_row(name)
            del self._cells[name]
            self._inputs.pop(name, None)
        order = [a.name for a in agents]
        kept = [n for n in self._order if n in names]
        if order[: len(kept)] != kept:  # the sort moved rows: draw them again, in the new order
            selected = self._selected()
            self.clear()
            self._cells.clear()
            self._inputs.clear()
            self._reselect = selected
            kept = []
        self._order = [*kept, *[n for n in order if n not in set(kept)]]
        for agent in agents:
            # A row is drawn from its agent, the clock (as shown) and attention:
            # when none of those changed, skip building and comparing its cells.
            inputs = (agent, row_clock(agent, now), agent.name in attention)
            if self._inputs.get(agent.name) == inputs:
                continue
            self._inputs[agent.name] = inputs
            cells = row_cells(agent, now, agent.name in attention, self.last_width, self.name_width)
            old = self._cells.get(agent.name)
            if old is None:
                self.add_row(
                    *(c for (key, _), c in zip(COLUMNS, cells, strict=True) if key in self.shown),
                    key=agent.name,
                )
                self.cell_updates += len(self.shown)
            else:
                for (key, _), new, before in zip(COLUMNS, cells, old, strict=True):
                    if new != before and key in self.shown:
                        # Re-measuring columns costs a full relayout: only when a cell got wider.
                        wider = key != "last" and new.cell_len > self._widths.get(key, 0)
                        grew = grew or wider
                        self.update_cell(agent.name, key, new, update_width=wider)
                        self.cell_updates += 1
            for (key, _), cell in zip(COLUMNS, cells, strict=True):
                self._widths[key] = max(self._widths.get(key, 0), cell.cell_len)
            self._cells[agent.name] = cells
        if grew:
            self.fit_last_column()
        if self.row_count != rows_before:
            # The table's height follows its rows (a filter, a removal): once DataTable has
            # measured them again, which it does on its next refresh.
            self.call_after_refresh(self.refresh, layout=True)
        if self._reselect is not None and self._reselect in names:
            self.move_cursor(row=self.get_row_index(self._reselect), animate=False)
        self._reselect = None

    def _selected(self) -> str | None:
        if not self.row_count:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    def cell_text(self, agent: str, column: str) -> str:
        """The plain text of one cell (for tests)."""
        index = [key for key, _ in COLUMNS].index(column)
        return self._cells[agent][index].plain


class AgentDetail(Static):
    """The selected agent: why it has its status, its task, and its drifted and overlapping files."""

    _shown: Text | None = None

    def show(self, agent: AgentSnapshot | None) -> None:
        if agent is None:
            set_border_title(self, "agent")
            self._shown = None
            self.update(Text("no agent selected", style="dim"))
            return
        set_border_title(self, f"{agent.name} · {agent.branch}")
        text = self._detail(agent)
        if text != self._shown:
            self._shown = text
            self.update(text)

    def _detail(self, agent: AgentSnapshot) -> Text:
        text = Text()
        text.append(status_word(agent), style="bold")
        text.append(f": {agent.status_reason}")
        if agent.status_evidence:
            text.append(f" «{agent.status_evidence.strip()}»", style="italic")
        if agent.status_signal_at is not None:  # a clock time, not an age: the panel stays still
            stamp = time.strftime("%H:%M:%S", time.localtime(agent.status_signal_at))
            text.append(f" (signal at {stamp})", style="dim")
        text.append("\n")
        if agent.context_used is not None or agent.cost_usd is not None:
            parts = []
            if agent.context_used is not None:
                parts.append(f"context {agent.context_used:.0f}% used ({agent.context_source})")
            if agent.cost_usd is not None:
                parts.append(f"${agent.cost_usd:.2f}")
            text.append(" · ".join(parts) + "\n", style="dim")
        task = agent.task.strip().splitlines()[0] if agent.task.strip() else ""
        text.append("task ", style="dim")
        text.append(task + "\n")
        if agent.git_error:
            text.append(f"git: {agent.git_error}\n", style="red")
        for lock in agent.git_locks:
            text.append(f"git lock held: {shown_path(lock)}", style="bold red")
            text.append(" (its commits, snapshots and merge fail until it goes: delete it if no git runs)\n")
        if agent.needs_person:
            text.append(f"needs a person: {agent.needs_person}\n", style="bold red")
        if agent.gates:
            now = time.time()
            rounds = f"  (automatic rounds {agent.rounds} of {agent.max_rounds})" if agent.rounds else ""
            text.append(f"\ngates{rounds}\n", style="bold")
            styles = {"✓": "green", "✗": "bold red", "…": "dim"}
            for mark, name, detail in gate_lines(agent, now):
                text.append(f"  {mark} ", style=styles[mark])
                text.append(f"{name:<12}", style="bold")
                text.append(detail + "\n", style="" if mark != "…" else "dim")
            for comment in agent.review_comments:
                text.append(f"    {comment}\n", style="yellow")
        text.append(f"\ndrift ({len(agent.drift)})\n", style="bold red" if agent.drift else "bold")
        if agent.drift:
            for path in agent.drift:
                text.append(f"  {shown_path(path)}\n", style="red")
        else:
            text.append("  none: every change is in scope\n", style="dim")
        overlap = sorted(agent.overlap.items())
        text.append(f"\noverlap ({len(overlap)})\n", style="bold yellow" if overlap else "bold")
        if overlap:
            for path, names in overlap:
                others = ", ".join(n for n in names if n != agent.name)
                text.append(f"  {shown_path(path)}", style="yellow")
                text.append(f"  with {others}\n", style="dim")
        else:
            text.append("  none\n", style="dim")
        if overlap_names(agent):
            text.append("\nmerge one of them first, or narrow their scopes\n", style="dim italic")
        return text


class DiffView(ScrollView, can_focus=True):
    """A unified diff, coloured line by line and drawn lazily: only the visible lines are rendered, so
    a diff of any length opens at once (the Line API: `render_line` per visible row)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.lines: Sequence[str] = ()
        self._styles: dict[str, Style] = {}

    def show(self, lines: Sequence[str], width: int) -> None:
        self.lines = lines
        self.virtual_size = Size(width, len(lines))
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def release(self) -> None:
        """Let go of the diff (the inspector closed): Textual may keep the widget a while longer,
        but a 50 MB diff must not stay with it."""
        self.lines = ()
        self.virtual_size = Size(0, 0)

    def _style(self, name: str) -> Style:
        if name not in self._styles:
            self._styles[name] = Style.parse(name) if name else Style()
        return self._styles[name]

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, base)
        line = self.lines[index]
        strip = Strip([Segment(line, base + self._style(diff_line_style(line)))])
        return strip.crop_extend(scroll_x, scroll_x + width, base)
