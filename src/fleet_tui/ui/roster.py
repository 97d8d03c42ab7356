"""Adding an agent from the dashboard (`n`) and removing one (`x`).

The form checks what is typed as the fleet file is checked (the same messages), writes the new
`[[agent]]` into fleet.toml keeping the person's comments, and brings it up; all of it in a worker,
errors shown in the form, which stays open so nothing typed is lost. Removing asks first, like the
other steering keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from fleet_tui.engine import roster
from fleet_tui.errors import FleetError
from fleet_tui.presets import BUILTIN_PRESETS
from fleet_tui.ui.host import AppMixin, Dashboard, dashboard

if TYPE_CHECKING:
    from fleet_tui.engine.fleet import Fleet
    from fleet_tui.models import AgentSnapshot

ROSTER_CSS = """
RosterModal {
    align: center middle;
}
RosterModal > Vertical {
    width: 96;
    max-width: 98%;
    height: auto;
    max-height: 96%;
    border: round $accent;
    background: $surface;
    padding: 0 1;
}
RosterModal VerticalScroll {
    height: auto;
    max-height: 65vh;  /* the rest of the form (errors, buttons) stays in sight at 80x24 */
}
RosterModal Label {
    width: 100%;
    margin-top: 1;
    color: $text-muted;
}
RosterModal #add-task {
    height: 5;
}
RosterModal .roster-error {
    color: $error;
    text-style: bold;
    height: auto;
}
RosterModal .roster-buttons {
    height: auto;
    margin-top: 1;
}
RosterModal .roster-buttons Button {
    margin-right: 2;
}
"""


def split_words(text: str) -> list[str]:
    """Patterns or names typed with spaces and/or commas between them."""
    return [w for w in re.split(r"[\s,]+", text.strip()) if w]


@dataclass
class RosterChanged(Message):
    """An agent was added or removed: the app swaps in the fleet as it is now."""

    fleet: Fleet
    message: str


@dataclass
class RosterFailed(Message):
    message: str


class RosterModal(ModalScreen[Any]):
    DEFAULT_CSS = ROSTER_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="roster.cancel")]

    def __init__(self, fleet: Fleet) -> None:
        super().__init__()
        self.fleet = fleet
        self.busy = False

    @property
    def fleet_app(self) -> Dashboard:
        return dashboard(self)

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    def show_error(self, message: str) -> None:
        self.busy = False
        error = self.query_one(".roster-error", Static)
        error.update(escape(message))
        error.display = True

    def on_roster_failed(self, message: RosterFailed) -> None:
        self.show_error(message.message)

    def on_roster_changed(self, message: RosterChanged) -> None:
        self.busy = False
        self.dismiss(message)


class AddAgentScreen(RosterModal):
    """The new-agent form. Dismisses with RosterChanged once the agent is in the file and up."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="add.cancel"),
        Binding("ctrl+s", "add", "Add", id="add.confirm"),
    ]

    def presets(self) -> list[str]:
        own = {a.preset_name for a in self.fleet.agents}
        return sorted(set(BUILTIN_PRESETS) | own)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "add an agent"
            box.border_subtitle = "ctrl+s adds and starts it · esc cancels"
            with VerticalScroll():
                yield Label("name (letters, digits, - and _; its branch is fleet/<name>)")
                yield Input(placeholder="e.g. api", id="add-name")
                yield Label("task")
                yield TextArea(id="add-task", soft_wrap=True)
                yield Label("scope: the files it may change, gitignore patterns, space or comma between")
                yield Input(placeholder="e.g. src/api/** tests/api/**", id="add-scope")
                yield Label("preset")
                yield Select(
                    [(name, name) for name in self.presets()],
                    value="shell",
                    allow_blank=False,
                    id="add-preset",
                )
                yield Label("or your own command ({prompt_file}, {worktree}); empty: the preset's")
                yield Input(id="add-command")
                yield Label("verify: a command that must pass before a merge (optional)")
                yield Input(id="add-verify")
                yield Label("depends on: agents merged before it starts (optional)")
                yield Input(placeholder=", ".join(self.fleet.spec.names), id="add-depends")
            error = Static(classes="roster-error")
            error.display = False
            yield error
            yield Horizontal(
                Button("Add and start", variant="primary", id="add-yes"),
                Button("Cancel", id="add-no"),
                classes="roster-buttons",
            )

    def on_mount(self) -> None:
        self.query_one("#add-name", Input).focus()

    def fields(self) -> dict[str, Any]:
        preset = self.query_one("#add-preset", Select).value
        return {
            "name": self.query_one("#add-name", Input).value.strip(),
            "task": self.query_one("#add-task", TextArea).text.strip() or None,
            "scope": split_words(self.query_one("#add-scope", Input).value),
            "preset": preset if isinstance(preset, str) else None,
            "command": self.query_one("#add-command", Input).value.strip() or None,
            "verify": self.query_one("#add-verify", Input).value.strip() or None,
            "depends_on": split_words(self.query_one("#add-depends", Input).value),
        }

    @on(Button.Pressed, "#add-yes")
    def action_add(self) -> None:
        if self.busy:
            return
        fields = self.fields()
        try:  # quick checks first, on this thread: parsing only, no git and no tmux
            roster.check_new_agent(self.fleet, fields)
        except FleetError as exc:
            self.show_error(str(exc))
            return
        self.busy = True
        error = self.query_one(".roster-error", Static)
        error.update("adding and starting it…")
        error.display = True
        self.run_add(fields)

    @on(Button.Pressed, "#add-no")
    def _no(self) -> None:
        self.action_cancel()

    @work(thread=True, exclusive=True, group="roster", exit_on_error=False)
    def run_add(self, fields: dict[str, Any]) -> None:
        try:
            change = roster.add_agent(self.fleet, fields)
        except FleetError as exc:
            self.post_message(RosterFailed(str(exc)))
            return
        except Exception as exc:
            self.post_message(RosterFailed(f"adding {fields.get('name')} failed: {exc}"))
            return
        self.post_message(RosterChanged(change.fleet, change.message))


class RemoveAgentScreen(RosterModal):
    """Confirm a removal; dismisses with RosterChanged once it is done."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="remove.cancel"),
    ]

    def __init__(self, fleet: Fleet, agent: AgentSnapshot) -> None:
        super().__init__(fleet)
        self.agent = agent

    def compose(self) -> ComposeResult:
        agent = self.agent
        with Vertical() as box:
            box.border_title = f"remove {agent.name}?"
            box.border_subtitle = "esc cancels"
            yield Static(
                f"Snapshots its uncommitted work, stops it, closes its pane, removes its worktree\n"
                f"{agent.worktree}\nand takes its [[agent]] out of {self.fleet.spec.path.name}.\n"
                f"Branch {agent.branch} stays (its commits: {agent.commits_ahead} not in {self.fleet.base}).",
                markup=False,
            )
            yield Checkbox("also delete the branch (only if it is merged into base)", id="remove-branch")
            error = Static(classes="roster-error")
            error.display = False
            yield error
            yield Horizontal(
                Button("Remove", variant="error", id="remove-yes"),
                Button("Cancel", id="remove-no"),
                classes="roster-buttons",
            )

    def on_mount(self) -> None:
        self.query_one("#remove-no", Button).focus()

    @on(Button.Pressed, "#remove-yes")
    def _yes(self) -> None:
        if self.busy:
            return
        delete_branch = self.query_one("#remove-branch", Checkbox).value
        # Its checks (a merged branch is asked of git) run first in the worker; a refusal comes back
        # as RosterFailed and is shown here, with nothing touched.
        self.busy = True
        error = self.query_one(".roster-error", Static)
        error.update("removing it…")
        error.display = True
        self.run_remove(delete_branch)

    @on(Button.Pressed, "#remove-no")
    def _no(self) -> None:
        self.action_cancel()

    @work(thread=True, exclusive=True, group="roster", exit_on_error=False)
    def run_remove(self, delete_branch: bool) -> None:
        try:
            change = roster.remove_agent(self.fleet, self.agent.name, delete_branch=delete_branch)
        except FleetError as exc:
            self.post_message(RosterFailed(str(exc)))
            return
        except Exception as exc:
            self.post_message(RosterFailed(f"removing {self.agent.name} failed: {exc}"))
            return
        self.post_message(RosterChanged(change.fleet, change.message))


class RosterActions(AppMixin):
    """Mixin of `FleetApp`: `n` adds an agent, `x` removes the selected one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "add_agent", "New", id="roster.add", tooltip="Add an agent: a form, then it starts"),
        Binding(
            "x",
            "remove_agent",
            "Remove",
            id="roster.remove",
            tooltip="Snapshot, stop, remove the agent's worktree and take it out of fleet.toml",
        ),
    ]

    if TYPE_CHECKING:
        fleet: Fleet | None

        @property
        def selected_agent(self) -> AgentSnapshot | None: ...
        def swap_fleet(self, fleet: Fleet) -> None: ...

    def roster_applies(self, action: str) -> bool | None:
        if action == "add_agent":
            return self.fleet is not None
        if action == "remove_agent":
            return self.fleet is not None and self.selected_agent is not None
        return None

    def action_add_agent(self) -> None:
        if self.fleet is not None:
            self.push_screen(AddAgentScreen(self.fleet), self._roster_done)

    def action_remove_agent(self) -> None:
        agent = self.selected_agent
        if self.fleet is not None and agent is not None:
            self.push_screen(RemoveAgentScreen(self.fleet, agent), self._roster_done)

    def _roster_done(self, change: RosterChanged | None) -> None:
        if change is None:
            return
        self.swap_fleet(change.fleet)
        self.notify(change.message, timeout=8)
