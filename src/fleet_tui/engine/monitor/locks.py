"""Held git lock files, per agent and for base: what would make the next merge, commit or snapshot fail.

A lock file left by a crashed git (or held by a long-running one, an editor's git) makes every
write there fail. The preflight refuses a merge while one is held; the dashboard shows it before
anyone tries, on the agent whose worktree it blocks, or on base. Git dirs are not watched (file
events skip `.git`), so the monitor looks every tick: a stat per lock file, a few per agent, no git
call once each git dir is known.
"""

from __future__ import annotations

from pathlib import Path

from fleet_tui.adapters import git
from fleet_tui.engine.fleet import Fleet
from fleet_tui.errors import FleetError


class GitLocks:
    """Reads which lock files are held: base's (the main checkout) and each agent's."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self._base: tuple[Path, ...] | None = None
        self._common = Path()
        self._agents: dict[str, tuple[Path, ...]] = {}
        self.base: tuple[str, ...] = ()
        self.agents: dict[str, tuple[str, ...]] = {}

    def _base_candidates(self) -> tuple[Path, ...]:
        if self._base is None:  # two git calls, once
            root = self.fleet.root
            self._common = git.git_common_dir(root)
            self._base = git.lock_candidates(git.git_dir(root), self._common, (self.fleet.base,))
        return self._base

    def _agent_candidates(self, name: str) -> tuple[Path, ...]:
        if name not in self._agents:
            path = self.fleet.layout.worktree(name)
            try:
                gdir = git.linked_git_dir(path) if path.exists() else None
            except OSError:
                gdir = None
            if gdir is None:  # not (yet) a worktree: nothing of its own to lock; looked at again later
                return ()
            branch = self.fleet.agent(name).branch
            # packed-refs is base's to show: one lock blocks every agent alike
            self._agents[name] = git.lock_candidates(gdir, self._common, (branch,), shared=False)
        return self._agents[name]

    def read(self) -> bool:
        """Look again; True when what is held changed since the last look."""
        try:
            base_candidates = self._base_candidates()
        except FleetError:  # not readable now (the repository moved?): try again next time
            self._base = None
            return False
        base = tuple(str(p) for p in git.held(base_candidates))
        agents = {}
        for agent in self.fleet.agents:
            held = git.held(self._agent_candidates(agent.name))
            if held:
                agents[agent.name] = tuple(str(p) for p in held)
        changed = base != self.base or agents != self.agents
        self.base, self.agents = base, agents
        return changed

    def forget(self, name: str) -> None:
        """The agent's worktree was made again (or went): find its git dir anew."""
        self._agents.pop(name, None)
