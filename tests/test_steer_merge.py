"""Merge with preflight and the merge queue, on real git (and real tmux for the fleet)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git
from helpers import files_of, wait_for, wait_snapshot

from fleet_tui.adapters import git as gitad
from fleet_tui.engine import actions
from fleet_tui.engine.actions import up
from fleet_tui.engine.monitor import Monitor, take_snapshot
from fleet_tui.engine.state import load_state, read_events
from fleet_tui.models import Status


def base_state(repo: Path) -> tuple[str, str, dict[str, bytes]]:
    """Base's commit id, `git status` of the main checkout and every byte of its files."""
    return (
        git(repo, "rev-parse", "main"),
        git(repo, "status", "--porcelain"),
        files_of(repo, skip=(".git", ".fleet")),
    )


def committed(fleet, *names: str) -> None:
    for name in names:
        path = fleet.layout.worktree(name)
        wait_for(lambda p=path: gitad.commits_since(p, fleet.base), what=f"{name} committed")


def all_idle(fleet, *names: str) -> None:
    wait_snapshot(
        Monitor(fleet),
        lambda s: all(s.agent(n).status == Status.IDLE for n in names),
        what="agents idle",
    )


def test_merge_with_a_conflict_leaves_base_unchanged(make_fleet, repo: Path) -> None:
    fleet = make_fleet([{"name": "alpha", "script": 'write src/util.py "theirs\\n"\ncommit "util"\n'}])
    up(fleet)
    committed(fleet, "alpha")
    (repo / "src/util.py").write_text("ours\n", encoding="utf-8")
    git(repo, "commit", "-qam", "base changes util")
    before = base_state(repo)

    with pytest.raises(actions.MergeRefused, match=r"conflicts with main in src/util\.py") as info:
        actions.merge(fleet, "alpha")

    assert info.value.preflight is not None and info.value.preflight.conflicts == ("src/util.py",)
    assert base_state(repo) == before
    assert load_state(fleet.layout).agent("alpha").phase == "running"
    assert read_events(fleet.layout)[-1].event == "merge-refused"


def test_merge_with_failing_verify_leaves_base_unchanged(make_fleet, repo: Path) -> None:
    fleet = make_fleet(
        [
            {
                "name": "alpha",
                "verify": "echo checking the build; exit 3",
                "script": 'write src/new.py "x = 1\\n"\ncommit "new"\n',
            }
        ]
    )
    up(fleet)
    committed(fleet, "alpha")
    before = base_state(repo)

    with pytest.raises(actions.MergeRefused, match=r"failed \(exit 3\)") as info:
        actions.merge(fleet, "alpha")

    pre = info.value.preflight
    assert pre is not None and pre.verify_code == 3 and "checking the build" in pre.verify_output
    assert base_state(repo) == before


def test_merge_refuses_when_base_checkout_is_dirty(make_fleet, repo: Path) -> None:
    fleet = make_fleet([{"name": "alpha", "script": 'write src/new.py "x = 1\\n"\ncommit "new"\n'}])
    up(fleet)
    committed(fleet, "alpha")
    (repo / "README.md").write_text("# my own edit, not committed\n", encoding="utf-8")
    before = base_state(repo)

    with pytest.raises(actions.MergeRefused, match=r"uncommitted changes \(README.md\)"):
        actions.merge(fleet, "alpha")
    assert base_state(repo) == before

    git(repo, "checkout", "-q", "-b", "elsewhere")
    with pytest.raises(actions.MergeRefused, match="is on elsewhere, not on main"):
        actions.merge(fleet, "alpha")


def test_merge_refuses_uncommitted_work_without_a_message(make_fleet, repo: Path) -> None:
    fleet = make_fleet([{"name": "alpha", "script": 'write src/new.py "x = 1\\n"\n'}])
    up(fleet)
    wait_for(lambda: (fleet.layout.worktree("alpha") / "src/new.py").exists())
    before = base_state(repo)
    with pytest.raises(actions.MergeRefused, match="1 file uncommitted"):
        actions.merge(fleet, "alpha")
    assert base_state(repo) == before
    assert gitad.uncommitted_files(fleet.layout.worktree("alpha")) == ["src/new.py"]


def test_merge_commits_work_starts_dependants_and_removes_worktree(make_fleet, repo: Path) -> None:
    fleet = make_fleet(
        [
            {
                "name": "alpha",
                "task": "Add the new module\nmore words",
                "script": 'write src/new.py "x = 1\\n"\n',
            },
            {"name": "beta", "depends_on": ["alpha"], "script": "say beta started\nidle\n"},
        ]
    )
    up(fleet)
    worktree = fleet.layout.worktree("alpha")
    wait_for(lambda: (worktree / "src/new.py").exists())
    assert load_state(fleet.layout).agent("beta").phase == "queued"

    result = actions.merge(fleet, "alpha", commit_message="alpha: new module", remove_worktree=True)

    assert result.committed is not None
    assert git(repo, "log", "-1", "--format=%s", "main").strip() == "Merge fleet/alpha: Add the new module"
    assert git(repo, "rev-list", "--count", "--merges", "main").strip() == "1"  # --no-ff
    assert (repo / "src/new.py").read_text(encoding="utf-8") == "x = 1\n"
    assert load_state(fleet.layout).agent("alpha").phase == "merged"
    assert load_state(fleet.layout).agent("beta").phase == "running"
    assert any("beta" in s for s in result.started)
    assert not worktree.exists() and gitad.branch_exists(repo, "fleet/alpha")
    assert git(repo, "status", "--porcelain") == ""
    # Removed on purpose: no error in the snapshot, and `up` does not bring the worktree back.
    snap = take_snapshot(fleet, sample=0)
    assert snap.agent("alpha").git_error is None and snap.agent("alpha").status == Status.MERGED
    assert not any("alpha" in change for change in up(fleet).changes)
    assert not worktree.exists()


def test_merge_queue_orders_simulates_and_stops_at_a_conflict_in_the_middle(make_fleet, repo: Path) -> None:
    fleet = make_fleet(
        [
            {
                "name": "c",
                "scope": ["src/**", "docs/**"],
                "script": 'write docs/guide.md "from c\\n"\nwrite src/c.py "c\\n"\ncommit "c"\n',
            },
            {
                "name": "d",
                "scope": ["src/**", "docs/**"],
                "script": 'write docs/guide.md "from d\\n"\nwrite src/d.py "d\\n"\ncommit "d"\n',
            },
            {"name": "a", "script": 'write src/a.py "a\\n"\ncommit "a"\n'},
            {"name": "b", "script": 'write src/pkg/deep.py "VALUE = 4\\n"\ncommit "b"\n'},
            {
                "name": "f",
                "scope": ["src/**", "README.md"],
                "script": 'write README.md "from f\\n"\ncommit "f"\n',
            },
            {
                "name": "g",
                "scope": ["src/**", "README.md"],
                "script": 'write README.md "from g\\n"\ncommit "g"\n',
            },
            {"name": "idle", "script": "idle\n"},
        ]
    )
    up(fleet)
    committed(fleet, "a", "b", "c", "d", "f", "g")
    all_idle(fleet, "a", "b", "c", "d", "f", "g")
    (repo / "src/pkg/deep.py").write_text("VALUE = 5\n", encoding="utf-8")
    git(repo, "commit", "-qam", "base moves deep.py")

    plan = actions.plan_queue(fleet)

    # b conflicts with base as it is now: left out, so it cannot stop the agents that can merge.
    assert (
        "b",
        "conflicts with main as it is now (src/pkg/deep.py): merge it alone once resolved",
    ) in plan.skipped
    # Overlap-free agents first (a), then the overlapping ones in file order: c, d, f, g.
    assert [i.agent for i in plan.items] == ["a", "c", "d", "f", "g"]
    verdicts = {i.agent: (i.clean, i.conflicts, i.blocked) for i in plan.items}
    assert verdicts["a"] == (True, (), False)
    assert verdicts["c"] == (True, (), False)
    # d alone merges cleanly into base; after c it does not: the plan checks base as it will be.
    assert verdicts["d"] == (False, ("docs/guide.md",), False)
    assert gitad.merge_check(repo, "main", "fleet/d").clean
    assert verdicts["f"] == (True, (), True)
    assert verdicts["g"] == (False, ("README.md",), True)
    assert ("idle", "nothing to merge") in plan.skipped
    assert "CONFLICT in docs/guide.md" in "\n".join(actions.describe_queue(plan))
    assert not git(repo, "for-each-ref", "refs/heads").count("simulation")

    tips = {n: git(repo, "rev-parse", f"fleet/{n}") for n in "bdfg"}
    result = actions.run_queue(fleet, plan)

    assert [m.agent for m in result.merged] == ["a", "c"]
    assert result.failed is not None and result.failed[0] == "d"
    assert result.not_run == ["f", "g"]
    assert (repo / "src/c.py").exists() and not (repo / "src/d.py").exists()
    assert (repo / "README.md").read_text(encoding="utf-8") == "# sample\n", "nothing after the failure"
    assert git(repo, "log", "-1", "--format=%s", "main").startswith("Merge fleet/c")
    assert git(repo, "status", "--porcelain") == ""
    assert {n: git(repo, "rev-parse", f"fleet/{n}") for n in "bdfg"} == tips
    state = load_state(fleet.layout)
    assert [state.agent(n).phase for n in "acdfg"] == ["merged", "merged", "running", "running", "running"]


def test_merge_queue_commits_uncommitted_work_only_with_a_message(make_fleet, repo: Path) -> None:
    fleet = make_fleet(
        [
            {"name": "a", "script": 'write src/a.py "a\\n"\ncommit "a"\nwrite src/a2.py "more\\n"\n'},
            {"name": "b", "script": 'write src/b.py "b\\n"\ncommit "b"\n'},
        ]
    )
    up(fleet)
    committed(fleet, "a", "b")
    wait_for(lambda: (fleet.layout.worktree("a") / "src/a2.py").exists())
    all_idle(fleet, "a", "b")

    plan = actions.plan_queue(fleet)
    assert [i.agent for i in plan.items] == ["b"]
    assert plan.skipped == (("a", "1 file uncommitted: give a commit message, or merge it alone"),)

    plan = actions.plan_queue(fleet, commit_message="finish a")
    assert [(i.agent, i.commits, i.uncommitted) for i in plan.items] == [("a", 1, 1), ("b", 1, 0)]
    result = actions.run_queue(fleet, plan)
    assert [m.agent for m in result.merged] == ["a", "b"] and result.failed is None
    assert (repo / "src/a2.py").read_text(encoding="utf-8") == "more\n"
    assert git(repo, "log", "-1", "--format=%s", "fleet/a").strip() == "finish a"


def test_preflight_names_drift_that_would_come_along(make_fleet, repo: Path) -> None:
    fleet = make_fleet(
        [
            {
                "name": "alpha",
                "scope": ["src/**"],
                "script": 'write docs/guide.md "x\\n"\nwrite src/a.py "a\\n"\ncommit "a"\n',
            }
        ]
    )
    up(fleet)
    committed(fleet, "alpha")
    pre = actions.preflight(fleet, "alpha", run_verify=False)
    scope = next(c for c in pre.checks if c.name == "scope")
    assert not scope.ok and "DRIFT: 1 file outside its scope would come along: docs/guide.md" in scope.detail
    assert pre.drift == ("docs/guide.md",)
    accepted = actions.preflight(fleet, "alpha", run_verify=False, allow_drift=True)
    scope = next(c for c in accepted.checks if c.name == "scope")
    assert scope.ok and scope.warning and "drift accepted: 1 file outside its scope" in scope.detail
