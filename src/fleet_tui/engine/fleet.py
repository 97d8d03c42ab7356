"""The fleet: open a fleet file in its repository, plan it, bring it up, take it down.

No UI here: the CLI, the dashboard and the tests all drive this module.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from fleet_tui.adapters import git
from fleet_tui.adapters.tmux import PaneStart, Tmux, require_tmux
from fleet_tui.engine.launcher import agent_path, write_launcher, write_queued
from fleet_tui.engine.state import (
    STATE_DIR,
    FleetState,
    Layout,
    load_state,
    log_event,
    save_state,
)
from fleet_tui.errors import EnvironmentProblem, SpecError
from fleet_tui.models import OverlapEntry
from fleet_tui.scope import Scope, predicted_overlaps, unmatched_patterns
from fleet_tui.spec import FLEET_FILE, Agent, FleetSpec, load_fleet


def slugify(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")
    return slug[:48] or "fleet"


@dataclass(frozen=True)
class PlanRow:
    agent: str
    branch: str
    worktree: Path
    scope: tuple[str, ...]
    depends_on: tuple[str, ...]
    preset: str


@dataclass(frozen=True)
class Plan:
    rows: tuple[PlanRow, ...]
    overlaps: tuple[OverlapEntry, ...]
    order: tuple[str, ...]
    warnings: tuple[str, ...]
    unrelated_overlaps: tuple[OverlapEntry, ...]  # between agents that do not depend on each other


@dataclass
class UpReport:
    changes: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.changes.append(message)


class Fleet:
    """One fleet file, opened in its repository, with its adapters."""

    def __init__(self, spec: FleetSpec, root: Path, base: str) -> None:
        self.spec = spec
        self.root = root
        self.base = base
        settings = spec.settings
        self.name = settings.name or slugify(root.name)
        worktree_root = (
            (root / settings.worktree_root).resolve()
            if settings.worktree_root
            else root.parent / f"{root.name}-fleet"
        )
        self.layout = Layout(root=root, worktree_root=worktree_root)
        self.session = self.name
        self.tmux = Tmux(settings.socket)
        self.scopes = {a.name: Scope(a.scope) for a in spec.agents}

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, cwd: Path | None = None, fleet_file: Path | None = None) -> Fleet:
        """Find the repository around `cwd`, read its fleet file and check it against the repo."""
        git.require_git()
        root = git.repo_root((cwd or Path.cwd()).resolve())
        path = fleet_file.resolve() if fleet_file else root / FLEET_FILE
        spec = load_fleet(path)
        base = spec.settings.base or git.current_branch(root)
        if base is None:
            raise SpecError(
                str(path),
                "fleet.base",
                "the repository is on a detached HEAD, so there is no current branch to use",
                'set `base = "main"` (or your branch) under [fleet]',
            )
        worktree_root = cls(spec, root, base).layout.worktree_root
        if worktree_root == root or root in worktree_root.parents:
            raise SpecError(
                str(path),
                "fleet.worktree_root",
                f"{worktree_root} is inside the repository, where agents' worktrees would show up "
                "as untracked files",
                "choose a folder outside the repository, e.g. the default ../<repo>-fleet",
            )
        if not git.branch_exists(root, base):
            raise SpecError(
                str(path),
                "fleet.base",
                f"branch {base!r} does not exist in {root}",
                "create it, or set `base` under [fleet] to an existing branch",
            )
        return cls(spec, root, base)

    def check_programs(self) -> None:
        """Every preset's program must be installed: say which is missing, and for whom."""
        path = agent_path()
        for agent in self.spec.agents:
            program = agent.preset.program
            if program and shutil.which(program, path=path) is None:
                raise EnvironmentProblem(
                    f"agent {agent.name!r} uses preset {agent.preset_name!r}, "
                    f"but its program {program!r} is not installed (not on PATH)",
                    f"install {program}, or give the agent another `preset` or `command`",
                )

    @property
    def agents(self) -> tuple[Agent, ...]:
        return self.spec.agents

    def agent(self, name: str) -> Agent:
        return self.spec.agent(name)

    # -- plan ------------------------------------------------------------------------------

    def plan(self) -> Plan:
        files = git.tracked_files(self.root, self.base)
        overlaps = predicted_overlaps(self.scopes, files)
        deps = {a.name: set(a.depends_on) for a in self.agents}

        def related(a: str, b: str) -> bool:
            return _reaches(deps, a, b) or _reaches(deps, b, a)

        unrelated = tuple(
            e
            for e in overlaps
            if any(not related(a, b) for i, a in enumerate(e.agents) for b in e.agents[i + 1 :])
        )
        warnings = tuple(
            f"{a.name}: scope pattern {p!r} matches no tracked file in {self.base}"
            for a in self.agents
            for p in unmatched_patterns(a.scope, files)
        )
        rows = tuple(
            PlanRow(
                agent=a.name,
                branch=a.branch,
                worktree=self.layout.worktree(a.name),
                scope=a.scope,
                depends_on=a.depends_on,
                preset=a.preset_name,
            )
            for a in self.agents
        )
        return Plan(rows, overlaps, tuple(self.spec.launch_order()), warnings, unrelated)

    # -- up / down -------------------------------------------------------------------------

    def up(self) -> UpReport:
        """Create what is missing (worktrees, branches, session, panes); touch nothing else."""
        require_tmux()
        self.check_programs()
        report = UpReport()
        self.layout.state_dir.mkdir(parents=True, exist_ok=True)
        if git.exclude_path(self.root, f"/{STATE_DIR}/"):
            report.add(f"excluded {STATE_DIR}/ through .git/info/exclude")
        state = load_state(self.layout)
        for agent in self.agents:
            self._ensure_worktree(agent, state, report)
        save_state(self.layout, state)

        alive = self.tmux.session_exists(self.session)
        present = {p.agent for p in self.tmux.list_panes(self.session)} if alive else set()
        missing = [a for a in self.spec.launch_order() if a not in present]
        if missing:
            starts = [self._pane_start(self.agent(name), state, report) for name in missing]
            per_window = self.spec.settings.panes_per_window
            if alive:
                self.tmux.add_panes(self.session, starts, per_window)
            else:
                self.tmux.create_session(self.session, starts, per_window)
                report.add(f"started tmux session {self.session!r} on socket {self.tmux.socket!r}")
            save_state(self.layout, state)
        report.changes.extend(self.start_ready())
        if report.changes:
            log_event(self.layout, None, "up", changes=report.changes)
        return report

    def _ensure_worktree(self, agent: Agent, state: FleetState, report: UpReport) -> None:
        record = state.agent(agent.name)
        path = self.layout.worktree(agent.name)
        registered = git.worktrees(self.root)
        if path not in registered and path.exists():  # checked first: refuse before making anything
            raise EnvironmentProblem(
                f"{path} exists and is not the worktree of {agent.branch}",
                "move or remove that folder (fleet-tui never deletes it), or set another "
                "worktree_root under [fleet]",
            )
        if not git.branch_exists(self.root, agent.branch):
            git.create_branch(self.root, agent.branch, self.base)
            record.branch_start = git.rev_parse(self.root, agent.branch)
            report.add(f"created branch {agent.branch} from {self.base}")
        elif record.branch_start is None:
            record.branch_start = git.rev_parse(self.root, agent.branch)
            report.add(f"using the existing branch {agent.branch}")
        if path in registered:
            if registered[path] != agent.branch:
                raise EnvironmentProblem(
                    f"{path} is a worktree of {registered[path] or 'a detached HEAD'}, not of {agent.branch}",
                    "move that worktree away (`git worktree move`), or set another "
                    "worktree_root under [fleet]",
                )
            if path.exists():
                return
        path.parent.mkdir(parents=True, exist_ok=True)
        # A registered worktree whose folder was deleted by hand: re-add just that one (--force
        # overrides only the "registered but missing" guard; we checked it is ours above).
        git.add_worktree(self.root, path, agent.branch, missing_ok=path in registered)
        report.add(f"created worktree {path} on {agent.branch}")

    def _pane_start(self, agent: Agent, state: FleetState, report: UpReport) -> PaneStart:
        record = state.agent(agent.name)
        cwd = self.layout.worktree(agent.name)
        waiting = self.unmet_dependencies(agent, state)
        if waiting:
            record.phase = "queued"
            script = write_queued(agent, self.layout, waiting, self.base)
            report.add(f"queued {agent.name}: waiting for {', '.join(waiting)}")
            return PaneStart(agent.name, cwd, ("sh", str(script)))
        record.run += 1
        record.phase = "running"
        record.started_at = time.time()
        launcher = write_launcher(agent, self.layout, record.run)
        report.add(f"started {agent.name} in {cwd}")
        log_event(self.layout, agent.name, "started", run=record.run)
        return PaneStart(agent.name, cwd, ("sh", str(launcher)))

    def unmet_dependencies(self, agent: Agent, state: FleetState | None = None) -> list[str]:
        state = state or load_state(self.layout)
        return [d for d in agent.depends_on if not self.is_merged(d, state)]

    def is_merged(self, name: str, state: FleetState) -> bool:
        """Merged by fleet-tui, or by hand: its branch moved and base now contains it."""
        record = state.agents.get(name)
        if record and record.phase == "merged":
            return True
        branch = self.agent(name).branch
        if not git.branch_exists(self.root, branch):
            return False
        tip = git.rev_parse(self.root, branch)
        start = record.branch_start if record else None
        return tip != start and git.is_ancestor(self.root, tip, self.base)

    def start_ready(self) -> list[str]:
        """Start queued agents whose dependencies are now merged; returns what it did."""
        state = load_state(self.layout)
        panes = {p.agent: p.pane_id for p in self.tmux.list_panes(self.session)}
        done: list[str] = []
        for agent in self.agents:
            record = state.agent(agent.name)
            if record.phase != "queued" or agent.name not in panes:
                continue
            if self.unmet_dependencies(agent, state):
                continue
            record.run += 1
            record.phase = "running"
            record.started_at = time.time()
            launcher = write_launcher(agent, self.layout, record.run)
            self.tmux.clear_history(panes[agent.name])
            self.tmux.respawn(panes[agent.name], self.layout.worktree(agent.name), ("sh", str(launcher)))
            log_event(self.layout, agent.name, "started", run=record.run, reason="dependencies merged")
            done.append(f"started {agent.name}: its dependencies are merged")
        if done:
            save_state(self.layout, state)
        return done

    def down(self) -> bool:
        """Stop the fleet's tmux session; worktrees, branches and state stay."""
        require_tmux()
        stopped = self.tmux.kill_session(self.session)
        if stopped:
            log_event(self.layout, None, "down")
        return stopped

    def pane_id(self, name: str) -> str | None:
        self.agent(name)  # unknown names get a clear error
        for pane in self.tmux.list_panes(self.session):
            if pane.agent == name:
                return pane.pane_id
        return None


def _reaches(deps: dict[str, set[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        if node == goal and node != start:
            return True
        for nxt in deps.get(node, ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False
