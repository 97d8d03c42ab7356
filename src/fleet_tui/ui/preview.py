"""The selected agent's pane as tmux shows it: its screen rows at the pane's own width, colours
included, folded (never cut) where this panel is narrower, the bottom (the prompt, the question)
always in view. The mouse wheel, PgUp/PgDn and Home go back through the pane's history (read in a
worker); End, or a newly selected agent, returns to the live screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget

HISTORY_LINES = 2000  # how far back PgUp can go: rows of the pane's tmux history


def fold(row: Text, width: int) -> list[Text]:
    """One screen row as rows of at most `width` cells, as a terminal of that width would wrap it."""
    if width <= 0 or row.cell_len <= width:
        return [row]
    offsets: list[int] = []
    used = 0
    for index, char in enumerate(row.plain):
        size = cell_len(char)
        if used + size > width:
            offsets.append(index)
            used = 0
        used += size
    return list(row.divide(offsets))


def screen_rows(screen: str, *, strip_bottom: bool) -> list[Text]:
    rows = Text.from_ansi(screen, no_wrap=True, overflow="crop").split("\n", allow_blank=True)
    if strip_bottom:  # blank rows under the prompt: the bottom that matters is the last text
        while rows and not rows[-1].plain.strip():
            rows.pop()
    return list(rows)


class PanePreview(Widget, can_focus=True):
    """The live screen, or (after scrolling up) the pane's history with the screen at its end."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pageup", "page_up", "Back", id="pane.page_up", show=False),
        Binding("pagedown", "page_down", "Forward", id="pane.page_down", show=False),
        Binding("home", "oldest", "Oldest", id="pane.home", show=False),
        Binding("end", "live", "Live", id="pane.live", show=False),
    ]

    @dataclass
    class HistoryWanted(Message):
        """Scrolled up past the live screen: the app reads the pane's history in a worker."""

        preview: PanePreview

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._screen = ""
        self._rows: list[Text] = []  # pane rows (live: the screen; else the history)
        self._history: str | None = None
        self._wrapped: list[Text] = []
        self._wrapped_for: tuple[int, int] = (-1, -1)  # (width, id of rows) the fold was made for
        self.back = 0  # display rows above the bottom (0: the bottom is in view)
        self._title = "pane"

    @property
    def live(self) -> bool:
        return self._history is None

    def show(self, screen: str, title: str) -> None:
        """The selected agent's current screen (every snapshot). Ignored while in the history,
        except for the title."""
        changed = title != self._title
        self._title = title
        if changed and self._history is not None:  # another agent: its own live screen
            self._history = None
            self.back = 0
        self._update_title()
        if screen == self._screen and not changed:
            return
        self._screen = screen
        if self.live:
            self._set_rows(screen_rows(screen, strip_bottom=True))

    def show_history(self, text: str) -> None:
        """The pane's history (the screen at its end), from the app's worker."""
        if self._history is None and self.back == 0:
            return  # already back to live meanwhile
        self._history = text
        keep = self.back
        self._set_rows(screen_rows(text, strip_bottom=True))
        self.back = min(keep, self._max_back())
        self._update_title()

    def _set_rows(self, rows: list[Text]) -> None:
        self._rows = rows
        self._wrapped_for = (-1, -1)
        self.refresh()

    def _fold_rows(self) -> list[Text]:
        width = max(1, self.content_size.width or self.size.width)
        key = (width, id(self._rows))
        if key != self._wrapped_for:
            self._wrapped = [part for row in self._rows for part in fold(row, width)]
            self._wrapped_for = key
        return self._wrapped

    def _height(self) -> int:
        return max(1, self.content_size.height or self.size.height)

    def _max_back(self) -> int:
        return max(0, len(self._fold_rows()) - self._height())

    def _update_title(self) -> None:
        title = self._title if self.live else f"{self._title} · history, {self.back} rows up · End: live"
        if title != self.border_title:  # setting an equal title repaints the pane every snapshot
            self.border_title = title

    def render(self) -> Text:
        rows = self._fold_rows()
        if not rows:
            return Text("(no screen: the pane is gone or the fleet is down)", style="dim italic")
        height = self._height()
        end = len(rows) - self.back
        text = Text("\n").join(rows[max(0, end - height) : end])
        text.no_wrap = True
        text.overflow = "crop"
        return text

    # -- scrolling --------------------------------------------------------------------------------

    def scroll_back(self, rows: int) -> None:
        if self.live:
            self.back = rows
            self._history = ""  # in the history from now on; the worker fills it in
            self._update_title()
            self.post_message(self.HistoryWanted(self))
            return
        self.back = max(0, min(self.back + rows, self._max_back()))
        if self.back == 0:
            self.action_live()
            return
        self._update_title()
        self.refresh()

    def action_page_up(self) -> None:
        self.scroll_back(self._height() - 1)

    def action_page_down(self) -> None:
        self.scroll_back(-(self._height() - 1))

    def action_oldest(self) -> None:
        self.scroll_back(10**9)

    def action_live(self) -> None:
        self._history = None
        self.back = 0
        self._set_rows(screen_rows(self._screen, strip_bottom=True))
        self._update_title()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_back(3)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        if not self.live:
            self.scroll_back(-3)
