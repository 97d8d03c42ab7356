"""A held git lock file shows on what it blocks: on the agent whose worktree (or branch) it is in,
and on base when it is in the main checkout. Read by the engine into the snapshot; the dashboard
only renders what the snapshot says. Real git, real tmux."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import git
from helpers import until
from memory_fleet import NOW, demo_snapshot, demo_source
from textual.widgets import Static

from fleet_tui.engine import actions
from fleet_tui.engine.monitor import Monitor
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.source import LiveSource
from fleet_tui.ui.widgets import AgentDetail

FLEET_TUI = str(Path(sys.executable).with_name("fleet-tui"))


def worktree_git_dir(fleet: Any, name: str) -> Path:
    return Path(git(fleet.layout.worktree(name), "rev-parse", "--path-format=absolute", "--git-dir").strip())


def test_the_snapshot_names_held_locks_on_the_agent_or_on_base(make_fleet: Any, repo: Path) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}, {"name": "beta", "script": "idle"}])
    actions.up(fleet)
    monitor = Monitor(fleet)
    try:
        snap = monitor.tick()
        assert snap.base_locks == () and all(a.git_locks == () for a in snap.agents)
        in_worktree = worktree_git_dir(fleet, "alpha") / "index.lock"
        on_branch = repo / ".git" / "refs" / "heads" / "fleet" / "beta.lock"
        in_main = repo / ".git" / "index.lock"
        for lock in (in_worktree, on_branch, in_main):
            lock.write_text("")
        snap = monitor.tick()
        said = subprocess.run(
            [FLEET_TUI, "-C", str(repo), "-f", str(fleet.spec.path), "status", "--sample", "0"],
            capture_output=True, text=True, check=False, timeout=60, env={**os.environ, "COLUMNS": "200"},
        ).stdout  # fmt: skip
        assert f"git lock held on main: {in_main} (merges wait)" in said, said
        assert f"git lock held alpha: {in_worktree}" in said and f"git lock held beta: {on_branch}" in said
        assert snap.agent("alpha").git_locks == (str(in_worktree),)
        assert snap.agent("beta").git_locks == (str(on_branch),)
        assert snap.base_locks == (str(in_main),), "the main checkout's lock is base's, no agent's"
        for lock in (in_worktree, on_branch, in_main):
            lock.unlink()
        snap = monitor.tick()
        assert snap.base_locks == () and all(a.git_locks == () for a in snap.agents)
    finally:
        monitor.close()


async def test_the_dashboard_shows_a_held_lock_and_when_it_goes(make_fleet: Any, repo: Path) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}])
    actions.up(fleet)
    app = FleetApp(LiveSource(fleet, interval=0.3))
    async with app.run_test(size=(150, 45)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.table.row_count, what="the table")
        app.select_agent("alpha")

        def header() -> str:
            return str(app.query_one("#summary", Static).render())

        def detail() -> str:
            return str(app.query_one(AgentDetail).render())

        in_main = repo / ".git" / "index.lock"
        in_worktree = worktree_git_dir(fleet, "alpha") / "index.lock"
        in_main.write_text("")
        in_worktree.write_text("")
        await until(pilot, lambda: "git lock held on main: .git/index.lock" in header(), what="base's lock")
        await until(pilot, lambda: f"git lock held: {in_worktree}" in detail(), what="alpha's lock")
        in_main.unlink()
        in_worktree.unlink()
        await until(pilot, lambda: "git lock" not in header(), what="base's lock gone")
        await until(pilot, lambda: "git lock" not in detail(), what="alpha's lock gone")


async def test_the_panel_renders_the_snapshots_locks_without_looking_at_files() -> None:
    """No such files exist: what shows comes from the snapshot alone (the UI thread reads nothing)."""
    snapshot = demo_snapshot()
    name = snapshot.agents[0].name
    agents = tuple(
        a.model_copy(update={"git_locks": ("/nowhere/.git/worktrees/x/index.lock",)}) if a.name == name else a
        for a in snapshot.agents
    )
    snapshot = snapshot.model_copy(
        update={"agents": agents, "base_locks": (f"{snapshot.repo}/.git/HEAD.lock",)}
    )
    source = demo_source()
    source.push(snapshot)
    app = FleetApp(source, clock=lambda: NOW)
    async with app.run_test(size=(150, 45)) as pilot:
        await until(pilot, lambda: app.snapshot is snapshot and app.table.row_count)
        app.select_agent(name)
        await pilot.pause()
        assert f"git lock held on {snapshot.base}: .git/HEAD.lock" in str(
            app.query_one("#summary", Static).render()
        )
        assert "git lock held: /nowhere/.git/worktrees/x/index.lock" in str(
            app.query_one(AgentDetail).render()
        )
