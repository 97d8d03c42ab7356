"""Where the fleet keeps its files (`.fleet/`), its state (`state.json`) and its event log."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

STATE_DIR = ".fleet"


@dataclass(frozen=True)
class Layout:
    """Every path fleet-tui reads or writes for one fleet."""

    root: Path
    worktree_root: Path

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def events_file(self) -> Path:
        return self.state_dir / "events.jsonl"

    def worktree(self, agent: str) -> Path:
        return self.worktree_root / agent

    def agent_dir(self, agent: str) -> Path:
        return self.state_dir / "agents" / agent

    def prompt_file(self, agent: str) -> Path:
        return self.agent_dir(agent) / "prompt.md"

    def handoff_file(self, agent: str) -> Path:
        return self.agent_dir(agent) / "handoff.md"

    def launcher(self, agent: str) -> Path:
        return self.agent_dir(agent) / "launch.sh"

    def queued_script(self, agent: str) -> Path:
        return self.agent_dir(agent) / "queued.sh"

    def exit_file(self, agent: str) -> Path:
        return self.agent_dir(agent) / "exit"


class AgentState(BaseModel):
    """What fleet-tui remembers about an agent between runs."""

    model_config = ConfigDict(extra="ignore")

    phase: str = "new"  # new | queued | running | killed | merged
    run: int = 0  # increases at every start; the launcher stamps its exit code with it
    restarts: int = 0
    started_at: float | None = None
    branch_start: str | None = None  # the commit the branch was created at
    needs_human: bool = False


class FleetState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    schema_version: int = Field(1, alias="schema")
    base: str | None = None  # pinned at the first `up`: checking out another branch moves nothing
    agents: dict[str, AgentState] = Field(default_factory=dict)

    def agent(self, name: str) -> AgentState:
        return self.agents.setdefault(name, AgentState())


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Write a file so readers see the old or the new content, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(layout: Layout) -> FleetState:
    try:
        return FleetState.model_validate_json(layout.state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return FleetState()


def pinned_base(root: Path) -> str | None:
    """The base branch the fleet was brought up on, if it has been."""
    try:
        raw = (root / STATE_DIR / "state.json").read_text(encoding="utf-8")
        return FleetState.model_validate_json(raw).base
    except (OSError, ValueError):
        return None


def save_state(layout: Layout, state: FleetState) -> None:
    write_atomic(layout.state_file, state.model_dump_json(by_alias=True, indent=2) + "\n")


def log_event(layout: Layout, agent: str | None, event: str, **details: Any) -> None:
    """Append one event to `.fleet/events.jsonl`."""
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    record = {"time": time.time(), "agent": agent, "event": event, "details": details}
    with layout.events_file.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, default=str) + "\n")


def read_events(layout: Layout) -> list[dict[str, Any]]:
    try:
        lines = layout.events_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def read_exit(layout: Layout, agent: str, run: int) -> int | None:
    """The exit code the launcher recorded for this run, if it has ended."""
    try:
        run_s, code_s = layout.exit_file(agent).read_text(encoding="utf-8").split()
        return int(code_s) if int(run_s) == run else None
    except (OSError, ValueError):
        return None
