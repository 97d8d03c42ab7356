"""The resolved fleet: agents with their task text and effective preset, and the order they start in."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from fleet_tui.presets import Preset
from fleet_tui.spec.file import FleetSettings


class Agent(BaseModel):
    """One agent with everything resolved: its task text and its effective preset."""

    model_config = ConfigDict(frozen=True)

    name: str
    task: str
    scope: tuple[str, ...]
    preset: Preset
    preset_name: str
    verify: str | None
    depends_on: tuple[str, ...]
    max_restarts: int
    restart_on: tuple[str, ...]
    idle_after: float
    env: dict[str, str]
    context_limit: float = 80.0
    restart_defaulted: bool = False  # `command` given without `restart_command` (plan warns)
    kind: Literal["agent", "task", "reviewer"] = "agent"
    done_when: tuple[str, ...] = ()
    max_rounds: int = 2
    review: str | None = None  # the name of the reviewer agent that checks this one
    reviews: str | None = None  # for a reviewer: the doer it checks
    review_prompt: str = ""  # for a reviewer: the person's review instructions

    @property
    def is_reviewer(self) -> bool:
        return self.kind == "reviewer"

    @property
    def branch(self) -> str:
        return f"fleet/{self.name}"


class FleetSpec(BaseModel):
    """A validated fleet file: settings plus resolved agents, in file order."""

    model_config = ConfigDict(frozen=True)

    path: Path
    settings: FleetSettings
    agents: tuple[Agent, ...]  # doers in file order ([[agent]] then [[task]]), then their reviewers

    def agent(self, name: str) -> Agent:
        for agent in self.agents:
            if agent.name == name:
                return agent
        from fleet_tui.errors import UnknownAgent

        raise UnknownAgent(name, [a.name for a in self.agents])

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.agents]

    @property
    def doers(self) -> tuple[Agent, ...]:
        """Agents whose work is merged: everything but reviewers."""
        return tuple(a for a in self.agents if not a.is_reviewer)

    def launch_order(self) -> list[str]:
        return launch_order({a.name: list(a.depends_on) for a in self.agents})


def launch_order(deps: dict[str, list[str]]) -> list[str]:
    """Dependencies first, otherwise file order (a stable topological sort, linear in the graph)."""
    index = {name: i for i, name in enumerate(deps)}
    waiting = {name: len({d for d in needs if d in deps}) for name, needs in deps.items()}
    dependents: dict[str, list[str]] = {name: [] for name in deps}
    for name, needs in deps.items():
        for dep in {d for d in needs if d in deps}:
            dependents[dep].append(name)
    ready = [index[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    names = list(deps)
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for nxt in dependents[name]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                heapq.heappush(ready, index[nxt])
    if len(order) < len(names):  # a cycle: validation rejects these, keep order total anyway
        placed = set(order)
        order.extend(name for name in names if name not in placed)
    return order


def find_cycle(deps: dict[str, list[str]]) -> list[str] | None:
    """Return one dependency cycle as a list of names, or None. Iterative: a chain of thousands of
    agents must not hit Python's recursion limit."""
    state: dict[str, int] = {}
    for root in deps:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(deps.get(root, [])))]
        while stack:
            node, pending = stack[-1]
            for dep in pending:
                if state.get(dep) == 1:
                    path = [name for name, _ in stack]
                    return path[path.index(dep) :]
                if dep in deps and dep not in state:
                    state[dep] = 1
                    stack.append((dep, iter(deps.get(dep, []))))
                    break
            else:
                stack.pop()
                state[node] = 2
    return None
