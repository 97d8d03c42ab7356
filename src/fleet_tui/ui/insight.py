"""The fleet at a glance: the timeline screen (where did it stall?) and the attention queue (who
needs me now?). A mixin of `FleetApp`, like the steering keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from fleet_tui.attention import Need, attention_queue
from fleet_tui.models import FleetSnapshot, Status
from fleet_tui.report import FleetReport, build_report, duration_words
from fleet_tui.timeline import MARK_GLYPH, rows, span_of
from fleet_tui.ui.footer import FittingFooter
from fleet_tui.ui.format import STATUS_STYLE, duration
from fleet_tui.ui.host import AppMixin

if TYPE_CHECKING:
    from fleet_tui.ui.source import FleetSource

LABEL = 14
LEGEND = ("starting", "working", "waiting", "idle", "crashed", "ready", "killed", "merged")
INSIGHT_CSS = """
TimelineScreen #timeline-head { height: auto; padding: 0 1; background: $boost; }
TimelineScreen #timeline { height: 1fr; padding: 1 1; }
AttentionScreen { align: center middle; }
AttentionScreen #attention-box { width: 90; max-width: 95%; height: auto; max-height: 80%;
    border: round $warning; padding: 0 1; background: $surface; }
AttentionScreen #attention-title { height: 1; }
AttentionScreen OptionList, AttentionScreen OptionList:focus { height: auto; max-height: 20; border: none; }
"""


def status_colour(status: str | None) -> str:
    """The colour of a status in the dashboard's palette (no bold: cells are blocks)."""
    if status is None:
        return ""
    try:
        style = STATUS_STYLE[Status(status)]
    except ValueError:
        return "white"
    return style.replace("bold ", "")


def timeline_text(report: FleetReport, width: int) -> Text:
    """One line per agent: coloured blocks per status, a mark's letter where it happened."""
    cols = max(10, width - LABEL - 1)
    span = span_of(report)
    text = Text()
    total = duration_words(span.seconds)
    # A ruler, not spaces: the label column and the gap must not be taken for blank space.
    text.append(f"{'time':<{LABEL}} 0s {'─' * max(0, cols - 4 - len(total))} {total}\n", style="dim")
    for name, cells in rows(report, cols):
        text.append(f"{name[: LABEL - 1]:<{LABEL}} ")
        for status, glyph in cells:
            colour = status_colour(status)
            if glyph:
                text.append(glyph, style=f"bold black on {colour}" if colour else "bold")
            elif status == "merged":
                text.append("─", style="dim green")  # done: a thin line, not a bar like work
            elif colour:
                text.append("█", style=colour)
            else:
                text.append(" ")
        text.append("\n")
    text.append("\n")
    for status in LEGEND:
        text.append("█", style=status_colour(status))
        text.append(f" {status}  ")
    text.append("\n" + "  ".join(f"{g} {k}" for k, g in MARK_GLYPH.items()), style="dim")
    return text


def head_text(report: FleetReport) -> Text:
    speed = f"{report.speedup:.1f}x" if report.speedup is not None else "-"
    text = Text()
    text.append(f" timeline · {report.fleet} ", style="bold reverse")
    text.append(
        f"  wall {duration_words(report.wall)} · working {duration_words(report.working)} · "
        f"speed-up {speed} · waiting for you {duration_words(report.waiting)}\n"
    )
    for sentence in report.verdict:
        text.append(f" {sentence}\n", style="italic")
    return text


@dataclass
class ReportRead(Message):
    report: FleetReport | None
    error: str = ""


class TimelineScreen(Screen[None]):
    """Where the fleet stalled: one row per agent over time, re-read every few seconds."""

    DEFAULT_CSS = INSIGHT_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,t", "back", "Back", id="timeline.back")]
    REFRESH_EVERY = 3.0

    def __init__(self, load: Callable[[], FleetReport]) -> None:
        super().__init__()
        self.load = load
        self.report: FleetReport | None = None

    def compose(self) -> ComposeResult:
        yield Static("reading the event log…", id="timeline-head")
        yield Static("", id="timeline")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.read_report()
        self.set_interval(self.REFRESH_EVERY, self.read_report)

    @work(thread=True, exclusive=True, group="timeline", exit_on_error=False)
    def read_report(self) -> None:
        try:
            self.post_message(ReportRead(self.load()))
        except Exception as exc:  # a broken log must not end the dashboard
            self.post_message(ReportRead(None, str(exc)))

    def on_report_read(self, message: ReportRead) -> None:
        if message.report is None:
            self.query_one("#timeline-head", Static).update(f"could not read the event log: {message.error}")
            return
        self.report = message.report
        self.draw()

    def on_resize(self, event: events.Resize) -> None:
        self.draw()

    def draw(self) -> None:
        if self.report is None:
            return
        self.query_one("#timeline-head", Static).update(head_text(self.report))
        self.query_one("#timeline", Static).update(timeline_text(self.report, self.size.width - 2))

    def action_back(self) -> None:
        self.dismiss()


class AttentionScreen(ModalScreen[str | None]):
    """The agents that need the person, the one waiting longest first; enter jumps to it."""

    DEFAULT_CSS = INSIGHT_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,w", "cancel", "Close", id="attention.close")]

    def __init__(self, needs: list[Need], now: float) -> None:
        super().__init__()
        self.needs = needs
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="attention-box"):
            count = len(self.needs)
            title = f"needs you: {count} agent{'s' if count != 1 else ''}, oldest first · enter jumps to it"
            yield Static(title if count else "nobody needs you right now", id="attention-title")
            yield OptionList(*[Option(self.line(n), id=n.agent) for n in self.needs], id="attention-list")

    def line(self, need: Need) -> Text:
        text = Text()
        text.append(f"{duration(need.waited(self.now)):>6} ", style="bold")
        text.append(f"{need.agent:<14} ", style="bold")
        text.append("; ".join(need.reasons))
        return text

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class InsightActions(AppMixin):
    """Mixin of `FleetApp`: the timeline and attention-queue keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "timeline", "Timeline", id="insight.timeline", tooltip="Every agent's status over time"),
        Binding(
            "w",
            "attention",
            "Inbox",
            id="insight.attention",
            tooltip="The agents that need you, oldest first",
        ),
    ]

    if TYPE_CHECKING:  # provided by FleetApp
        source: FleetSource
        snapshot: FleetSnapshot | None
        clock: Callable[[], float]

        def select_agent(self, name: str) -> None: ...
        def clear_attention(self, name: str | None) -> None: ...

    def insight_applies(self, action: str) -> bool | None:
        """True/False for the timeline and attention keys, None for others. The timeline needs a
        fleet's event log (dimmed without one, like the steering keys)."""
        if action == "timeline":
            return self.source.base is not None
        return True if action == "attention" else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.insight_applies(action) is False:
            return None
        return super().check_action(action, parameters)

    def action_timeline(self) -> None:
        if not self.insight_applies("timeline"):
            return
        source, clock = self.source, self.clock
        fleet = self.snapshot.fleet if self.snapshot is not None else "fleet"

        def load() -> FleetReport:  # in the screen's worker thread: the event log is read there
            names = list(source.agent_names)
            return build_report(source.events(), names, fleet=fleet, base=source.base or "", now=clock())

        self.push_screen(TimelineScreen(load))

    def action_attention(self) -> None:
        needs = attention_queue(self.snapshot) if self.snapshot is not None else []

        def chosen(name: str | None) -> None:
            if name:
                self.select_agent(name)
                self.clear_attention(name)

        self.push_screen(AttentionScreen(needs, self.clock()), chosen)
