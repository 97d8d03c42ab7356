"""The dashboard's `n` form and `x` removal on a real fleet (tmux, git, the fake agent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import fake_agent_command, git, toml_value
from test_roster import COMMENTED, comments
from test_ui_live import until
from textual.widgets import Button, Input, Select, Static, TextArea

from fleet_tui.adapters import git as gitad
from fleet_tui.engine import actions
from fleet_tui.engine.fleet import Fleet
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.roster import AddAgentScreen, RemoveAgentScreen
from fleet_tui.ui.source import LiveSource


def write_fleet(repo: Path, tmp_path: Path, server: Any) -> Path:
    script = tmp_path / "idle.txt"
    script.write_text("say ready\nidle\n", encoding="utf-8")
    path = repo / "fleet.toml"
    path.write_text(
        COMMENTED.format(
            socket=toml_value(server.socket_name), command=toml_value(fake_agent_command(script))
        ),
        encoding="utf-8",
    )
    return path


async def test_the_add_form_validates_writes_keeping_comments_and_starts_the_agent(
    repo: Path, tmp_path: Path, server: Any
) -> None:
    path = write_fleet(repo, tmp_path, server)
    before = path.read_text(encoding="utf-8")
    fleet = Fleet.open(repo)
    actions.up(fleet)
    script = tmp_path / "new.txt"
    script.write_text("say hello from the new one\nidle\n", encoding="utf-8")
    app = FleetApp(LiveSource(fleet, interval=0.3))
    async with app.run_test(size=(140, 45)) as pilot:
        await until(pilot, lambda: app.table.row_count == 2, what="two agents")
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, AddAgentScreen)
        form.query_one("#add-name", Input).value = "bad name!"
        form.query_one("#add-scope", Input).value = "lib/**"
        form.query_one("#add-task", TextArea).text = "Build the lib."
        await pilot.press("ctrl+s")
        error = form.query_one(".roster-error", Static)
        assert error.display and "name" in str(error.render())
        assert isinstance(app.screen, AddAgentScreen), "the form stays open with what was typed"
        assert path.read_text(encoding="utf-8") == before, "nothing written"

        form.query_one("#add-name", Input).value = "lib"
        form.query_one("#add-command", Input).value = fake_agent_command(script)
        form.query_one("#add-preset", Select).value = "shell"
        await pilot.click("#add-yes")
        await until(pilot, lambda: not isinstance(app.screen, AddAgentScreen), what="the form to close")
        await until(pilot, lambda: app.table.row_count == 3, what="the new agent's row")
        after = path.read_text(encoding="utf-8")
        assert after.startswith(before) and comments(after) == comments(before)
        assert 'name = "lib"' in after and 'scope = ["lib/**"]' in after
        assert app.fleet is not None and app.fleet.spec.names == ["api", "docs", "lib"]
        await until(
            pilot,
            lambda: (
                "hello from the new one" in "".join(a.screen for a in app.snapshot.agents if a.name == "lib")
            ),
            what="the new agent running in its pane",
        )


async def test_x_removes_the_selected_agent_keeping_its_branch(
    repo: Path, tmp_path: Path, server: Any
) -> None:
    path = write_fleet(repo, tmp_path, server)
    fleet = Fleet.open(repo)
    actions.up(fleet)
    app = FleetApp(LiveSource(fleet, interval=0.3))
    async with app.run_test(size=(140, 45)) as pilot:
        await until(pilot, lambda: app.table.row_count == 2, what="two agents")
        assert app.selected_name == "api"
        await pilot.press("x")
        assert isinstance(app.screen, RemoveAgentScreen)
        app.screen.query_one("#remove-yes", Button).press()
        await until(pilot, lambda: not isinstance(app.screen, RemoveAgentScreen), timeout=30, what="removed")
        await until(pilot, lambda: app.table.row_count == 1, what="its row gone")
        assert 'name = "api"' not in path.read_text(encoding="utf-8")
        assert not fleet.layout.worktree("api").exists() and gitad.branch_exists(repo, "fleet/api")
        assert app.selected_name == "docs"


async def test_a_refused_removal_is_said_in_the_dialog_and_touches_nothing(
    repo: Path, tmp_path: Path, server: Any
) -> None:
    """`api` has commits not in base: deleting its branch is refused (git is asked in the worker)."""
    path = write_fleet(repo, tmp_path, server)
    fleet = Fleet.open(repo)
    actions.up(fleet)
    worktree = fleet.layout.worktree("api")
    (worktree / "api_work.py").write_text("x = 1\n", encoding="utf-8")
    git(worktree, "add", "-A")
    git(worktree, "commit", "-qm", "api's own commit")
    before = path.read_text(encoding="utf-8")
    app = FleetApp(LiveSource(fleet, interval=0.3))
    async with app.run_test(size=(140, 45)) as pilot:
        await until(pilot, lambda: app.table.row_count == 2, what="two agents")
        await pilot.press("x")
        screen = app.screen
        assert isinstance(screen, RemoveAgentScreen)
        screen.query_one("#remove-branch").value = True  # type: ignore[attr-defined]
        screen.query_one("#remove-yes", Button).press()
        error = screen.query_one(".roster-error", Static)
        await until(pilot, lambda: "not merged" in str(error.render()), timeout=30, what="the refusal")
        assert app.screen is screen and not screen.busy  # the dialog stays, ready for another choice
    assert path.read_text(encoding="utf-8") == before
    assert worktree.exists() and gitad.branch_exists(repo, "fleet/api")
