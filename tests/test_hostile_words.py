"""The words match what happened: a long drift is summarised, kill says 'to be snapshotted'."""

from __future__ import annotations

from typing import Any

from helpers import fleet_cli

from fleet_tui.engine import actions


def test_status_summarises_thousands_of_drifted_files(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}])
    actions.up(fleet)
    out_of_scope = fleet.layout.worktree("alpha") / "docs" / "generated"
    out_of_scope.mkdir(parents=True)
    for i in range(3000):
        (out_of_scope / f"page_{i:05}.md").write_text("x\n")
    result = fleet_cli(fleet, "status", "--sample", "0")
    assert result.returncode == 0, result.stderr
    drift = next(line for line in result.stdout.splitlines() if line.startswith("drift alpha:"))
    assert "… and 2980 more" in drift and len(drift) < 2000, drift[:200]


def test_kill_says_what_it_will_snapshot_before_it_has(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}])
    actions.up(fleet)
    (fleet.layout.worktree("alpha") / "src" / "new.py").write_text("x\n")
    result = fleet_cli(fleet, "kill", "alpha", "--yes")
    assert result.returncode == 0, result.stderr
    assert "(to be snapshotted first)" in result.stdout and "saved as snapshot" in result.stdout
