"""The handoff fits on a command line however much the agent changed (presets pass it as argv)."""

from __future__ import annotations

import subprocess
from typing import Any

from helpers import wait_for

from fleet_tui.engine import actions
from fleet_tui.handoff import MAX_BYTES, HandoffData, build_handoff
from fleet_tui.models import FileChange

ARG_MAX_ONE = 128 * 1024  # Linux MAX_ARG_STRLEN: the longest single argument execve accepts


def test_a_restart_after_2000_changed_files_still_starts(make_fleet: Any) -> None:
    # The shape of the claude/codex/gemini presets: the whole handoff as one argument of a program.
    restart = 'env true "$(cat {handoff_file})" && echo HANDOFF-FITS-ARGV; sleep 60'
    fleet = make_fleet([{"name": "alpha", "script": "idle", "restart_command": restart}])
    actions.up(fleet)
    worktree = fleet.layout.worktree("alpha")
    for i in range(2000):  # about 700 files were enough to break it
        folder = worktree / "src" / f"module_{i % 40:02}" / "deeply_nested_folder_name_for_realism"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"generated_file_with_a_long_descriptive_name_{i:05}.py").write_text(f"X = {i}\n")
    for i in range(30):
        (worktree / f"drifted_{i}.txt").write_text("outside\n")
    actions.restart(fleet, "alpha", reason="test", force=True)
    handoff = fleet.layout.handoff_file("alpha").read_bytes()
    assert len(handoff) <= MAX_BYTES < ARG_MAX_ONE
    text = handoff.decode()
    assert "2030 files; by folder:" in text and "`src/module_07/`: 50 files" in text
    assert all(f"DRIFT: `drifted_{i}.txt`" in text for i in range(30)), "the drift is listed in full"

    def screen() -> str:
        pane = fleet.pane_id("alpha")
        return subprocess.run(
            ["tmux", "-L", fleet.tmux.socket, "capture-pane", "-p", "-t", str(pane)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip

    wait_for(lambda: "HANDOFF-FITS-ARGV" in screen() or "too long" in screen(), what="the restart")
    assert "HANDOFF-FITS-ARGV" in screen(), screen()


def test_a_huge_task_or_drift_is_cut_at_the_bound_with_a_note() -> None:
    data = HandoffData(
        agent="a", task="word " * 100_000, scope=("src/**",), base="main", branch="fleet/a",
        worktree="/w", attempt=1, max_restarts=2, reason="r",
        files=[FileChange(path=f"x/{i}.py", added=1, removed=0, in_scope=False) for i in range(5000)],
        drift=[f"x/{i}.py" for i in range(5000)],
    )  # fmt: skip
    text = build_handoff(data)
    assert len(text.encode()) <= MAX_BYTES
    assert text.rstrip().endswith("`git status`.)")
