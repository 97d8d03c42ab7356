"""Context budget: the plan estimates each agent's start against its preset's context window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from conftest import git, write_files

from fleet_tui.budget import BUDGET_SHARE, estimate, handoff_warning, tokens
from fleet_tui.cli import cli


def test_estimate_counts_task_and_scope_at_four_characters_a_token() -> None:
    budget = estimate("a", "x" * 400, {"src/big.py": 40_000, "src/small.py": 400}, window=100_000)
    assert (budget.task_tokens, budget.scope_tokens, budget.files) == (100, 10_100, 2)
    assert budget.biggest[0] == ("src/big.py", 10_000)
    assert not budget.over and budget.warning() is None
    full = estimate("a", "", {"src/big.py": 300_000}, window=100_000)
    assert full.over and full.share == 0.75
    warning = full.warning()
    assert warning is not None and "75%" in warning and "src/big.py" in warning and "100,000" in warning
    assert estimate("a", "t", {"x": 10**9}, window=None).warning() is None  # no window, no verdict


def test_a_handoff_that_fills_the_window_is_named() -> None:
    assert handoff_warning("a", "x" * 100, 1000) is None
    big = "x" * (int(1000 * BUDGET_SHARE) + 10) * 4
    assert tokens(len(big)) > 600
    message = handoff_warning("a", big, 1000)
    assert message is not None and "handoff" in message


def plan(repo: Path, fleet_file: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["plan", "-C", str(repo), "-f", str(fleet_file), *args])


def test_plan_warns_past_60_percent_and_strict_fails(repo: Path, tmp_path: Path) -> None:
    write_files(repo, {"src/huge.py": "# filler\n" * 20_000})  # ~45k tokens
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a big file")
    fleet_file = tmp_path / "fleet.toml"
    fleet_file.write_text(
        '[preset.small]\ncommand = "sh"\ncontext_window = 50000\n\n'
        '[[agent]]\nname = "a"\npreset = "small"\ntask = "go"\nscope = ["src/**"]\n'
        '\n[[agent]]\nname = "b"\npreset = "small"\ntask = "go"\nscope = ["tests/**"]\n',
        encoding="utf-8",
    )
    result = plan(repo, fleet_file)
    assert result.exit_code == 0, result.output
    assert "a: its task and scope take ~" in result.output and "src/huge.py" in result.output
    assert "b: its task" not in result.output
    assert "context at start: b ~" in result.output
    strict = plan(repo, fleet_file, "--strict")
    assert strict.exit_code == 1 and "context window" in strict.output


def test_restart_on_context_restarts_with_a_handoff_past_the_limit(make_fleet: Any) -> None:
    from helpers import wait_snapshot

    from fleet_tui.engine import actions
    from fleet_tui.engine.monitor import Monitor

    script = "say 'Context left until auto-compact: 15%'\nidle\n== restart ==\nsay 'fresh start'\nidle\n"
    fleet = make_fleet(
        [{"name": "a", "script": script, "restart_on": ["context"], "context_limit": 80.0, "max_restarts": 1}]
    )
    actions.up(fleet)
    monitor = Monitor(fleet)
    try:
        snap = wait_snapshot(monitor, lambda s: s.agents[0].context_used is not None, what="context use")
        reading = snap.agents[0]
        assert reading.context_used == 85.0 and reading.context_source.startswith("screen: ")
        done = actions.auto_restart(fleet, snap)
        assert len(done) == 1 and "restarted a" in done[0], done
        assert fleet.layout.handoff_file("a").exists()
        after = wait_snapshot(monitor, lambda s: "fresh start" in s.agents[0].tail, what="the restart")
        assert after.agents[0].restarts == 1 and after.agents[0].context_used is None
        # below the limit, nothing happens
        assert actions.auto_restart(fleet, after) == []
    finally:
        monitor.close()


def test_context_column_and_fleet_cost() -> None:
    from fleet_tui.models import AgentSnapshot, FleetSnapshot, Status
    from fleet_tui.ui.format import context_text, summary_text

    def agent(name: str, **kw: Any) -> AgentSnapshot:
        base = {"task": "t", "branch": "b", "worktree": "/w", "preset": "claude", "status": Status.IDLE}
        return AgentSnapshot(name=name, status_reason="r", status_since=0.0, **base, **kw)

    full = agent("a", context_used=85.0, context_source="statusline", cost_usd=0.25)
    half = agent("b", context_used=40.0, cost_usd=1.0)
    none = agent("c")
    assert (context_text(full).plain, context_text(half).plain, context_text(none).plain) == (
        "85%",
        "40%",
        "-",
    )
    assert "red" in str(context_text(full).style)
    snap = FleetSnapshot(
        fleet="f", base="main", repo="/r", session="s", socket="x", session_alive=True, taken_at=0.0,
        agents=(full, half, none),
    )  # fmt: skip
    assert snap.cost_usd == 1.25
    assert "$1.25 spent" in summary_text(snap).plain
    assert '"cost_usd": 1.25' in snap.to_json()
    alone = snap.model_copy(update={"agents": (none,)})
    assert alone.cost_usd is None and "spent" not in summary_text(alone).plain
