"""The command palette (ctrl+p): every key's action for the selected agent, and 'select agent'."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from fleet_tui.ui.host import Dashboard, dashboard

Command = tuple[str, Callable[[], object], str]


class FleetCommands(Provider):
    """Built from the app's bindings, so steering keys added later show up here too."""

    @property
    def fleet_app(self) -> Dashboard:
        return dashboard(self)

    def commands(self) -> list[Command]:
        app = self.fleet_app
        agent = app.selected_agent
        found: list[Command] = []
        seen: set[str] = set()
        for key, binding in app.merged_bindings():
            if not binding.description or binding.action in seen or binding.action == "command_palette":
                continue
            seen.add(binding.action)
            if not app.applies(binding.action):
                continue
            target = f" {agent.name}" if agent and binding.action in app.TARGETED_ACTIONS else ""
            found.append(
                (
                    f"{binding.description}{target}",
                    partial(app.run_action, binding.action),
                    f"key: {app.get_key_display(binding) or key}",
                )
            )
        if app.snapshot is not None:
            for other in app.snapshot.agents:
                found.append(
                    (
                        f"Select agent {other.name}",
                        partial(app.select_agent, other.name),
                        f"{other.status.value}: {other.task.strip().splitlines()[0] if other.task else ''}",
                    )
                )
        return found

    async def discover(self) -> Hits:
        for name, run, help_text in self.commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
