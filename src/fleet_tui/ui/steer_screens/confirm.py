"""The kill and restart confirmations: what is at stake, then yes or no."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Button, Input, Static

from fleet_tui.engine.actions import Stakes
from fleet_tui.engine.text import listed, plural
from fleet_tui.ui.steer_screens.base import SteerModal

# -- kill -------------------------------------------------------------------------------------------


def stakes_lines(stakes: Stakes, base: str) -> list[str]:
    lines = []
    if stakes.uncommitted:
        lines.append(
            f"• {plural(len(stakes.uncommitted), 'uncommitted file')} "
            f"({listed(stakes.uncommitted)}): saved in a snapshot first, and left in the worktree"
        )
    else:
        lines.append("• no uncommitted files")
    if stakes.commits:
        lines.append(f"• {plural(len(stakes.commits), 'commit')} not in {base}: kept on fleet/{stakes.agent}")
    else:
        lines.append(f"• no commits that {base} lacks")
    return lines


class KillScreen(SteerModal):
    """Confirm a kill, stating what is at stake. Dismisses with True to kill."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="kill.cancel"),
        Binding("y", "confirm", "Kill", id="kill.confirm"),
    ]

    def __init__(self, stakes: Stakes, base: str) -> None:
        super().__init__()
        self.stakes = stakes
        self.base = base

    def compose(self) -> ComposeResult:
        stakes = self.stakes
        with Vertical() as box:
            box.border_title = f"kill {stakes.agent}?"
            box.border_subtitle = "y kills · esc cancels"
            running = "its process and everything it started" if stakes.pane_alive else "no live process"
            yield Static(Text("At stake:\n" + "\n".join(stakes_lines(stakes, self.base))), id="kill-stakes")
            yield Static(
                f"Stops {running}: exit keys, then SIGTERM, then SIGKILL. The pane stays readable as killed; "
                "worktree, branch and files stay.",
                id="kill-what",
            )
            yield self.buttons(Button("Kill", variant="error", id="kill-yes"), Button("Cancel", id="kill-no"))

    def on_mount(self) -> None:
        self.query_one("#kill-no", Button).focus()

    @on(Button.Pressed, "#kill-yes")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#kill-no")
    def _no(self) -> None:
        self.dismiss(None)


# -- restart ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestartChoice:
    reason: str
    force: bool
    note: str = ""  # for the fresh agent: the first thing in its handoff


class RestartScreen(SteerModal):
    """Confirm a restart; past max_restarts, a second explicit confirmation. Dismisses with a
    RestartChoice."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="restart.cancel")]

    def __init__(self, stakes: Stakes, base: str) -> None:
        super().__init__()
        self.stakes = stakes
        self.base = base

    def compose(self) -> ComposeResult:
        stakes = self.stakes
        attempt = stakes.restarts + 1
        with Vertical() as box:
            box.border_title = f"restart {stakes.agent}?"
            box.border_subtitle = "enter restarts · esc cancels"
            if stakes.over_cap:
                yield Static(
                    f"{stakes.agent} has been restarted {stakes.restarts} times (max_restarts = "
                    f"{stakes.max_restarts}): it needs a person to look at it. Restart it anyway?",
                    classes="steer-warning",
                    id="restart-cap",
                )
            yield Static(
                (
                    f"Restart {attempt} of {stakes.max_restarts} allowed."
                    if attempt <= stakes.max_restarts
                    else f"Restart {attempt}: past the {stakes.max_restarts} allowed."
                )
                + " A fresh agent process starts in "
                "the same worktree, with a handoff document of what is done (commits, files, warnings, "
                "its last screen).\n" + "\n".join(stakes_lines(stakes, self.base)),
                id="restart-what",
            )
            yield Input(
                value="asked by the person", placeholder="why (goes in the handoff)", id="restart-reason"
            )
            yield Input(placeholder="anything to tell the fresh agent? (optional)", id="restart-note")
            label = "Restart past the limit" if stakes.over_cap else "Restart"
            yield self.buttons(
                Button(label, variant="warning", id="restart-yes"), Button("Cancel", id="restart-no")
            )

    def on_mount(self) -> None:
        self.query_one("#restart-reason", Input).focus()

    @on(Input.Submitted, "#restart-reason")
    @on(Input.Submitted, "#restart-note")
    @on(Button.Pressed, "#restart-yes")
    def _yes(self) -> None:
        reason = self.query_one("#restart-reason", Input).value.strip() or "asked by the person"
        note = self.query_one("#restart-note", Input).value.strip()
        self.dismiss(RestartChoice(reason, force=self.stakes.over_cap, note=note))

    @on(Button.Pressed, "#restart-no")
    def _no(self) -> None:
        self.dismiss(None)
