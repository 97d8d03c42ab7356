"""Merges that respect scope, sync from base, and the person's note (real tmux and git)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import git
from helpers import wait_for
from test_pipeline_live import drive

from fleet_tui.adapters import git as gitad
from fleet_tui.cli import cli
from fleet_tui.engine import actions
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.pipeline import Pipeline, load_record
from fleet_tui.engine.state import read_events


def run(fleet, *args: str):
    return CliRunner().invoke(cli, ["-C", str(fleet.root), "-f", str(fleet.spec.path), *args])


def test_a_drifted_agent_is_refused_left_out_of_the_queue_then_merged_with_allow_drift(
    make_fleet, repo: Path
) -> None:
    fleet = make_fleet(
        [
            {"name": "docs", "scope": ["docs/**"], "script": 'write README.md "hijacked\\n"\n'
             'write docs/new.md "new\\n"\ncommit "docs"\nexit 0\n'},
            {"name": "api", "script": 'write src/api.py "x = 1\\n"\ncommit "api"\nexit 0\n'},
        ]
    )  # fmt: skip
    actions.up(fleet)
    for name in ("docs", "api"):
        wait_for(
            lambda n=name: gitad.commits_since(fleet.layout.worktree(n), "main"), what=f"{name} committed"
        )
    before = git(repo, "rev-parse", "main")

    refused = run(fleet, "merge", "docs", "--yes")
    assert refused.exit_code == 1, refused.output
    assert "DRIFT: 1 file outside its scope would come along: README.md" in refused.output
    assert "Traceback" not in refused.output and git(repo, "rev-parse", "main") == before

    plan = actions.plan_queue(fleet)
    assert [i.agent for i in plan.items] == ["api"]
    skipped = dict(plan.skipped)
    assert skipped["docs"].startswith("drifted: 1 file outside its scope (README.md)")
    with_drift = actions.plan_queue(fleet, allow_drift=True)
    assert sorted(i.agent for i in with_drift.items) == ["api", "docs"]

    merged = run(fleet, "merge", "docs", "--yes", "--allow-drift")
    assert merged.exit_code == 0, merged.output
    assert "warn scope       drift accepted: 1 file outside its scope come along: README.md" in merged.output
    assert (repo / "README.md").read_text(encoding="utf-8") == "hijacked\n"
    accepted = [e for e in read_events(fleet.layout) if e.event == "drift-accepted"]
    assert [(e.agent, e.details["files"]) for e in accepted] == [("docs", ["README.md"])]


def test_a_merge_past_an_overlap_shows_a_conflict_with_base_and_sync_hands_it_over(make_fleet) -> None:
    fleet = make_fleet(
        [
            {"name": "one", "script": 'write src/util.py "one\\n"\ncommit "one"\nexit 0\n'},
            {"name": "two", "script": 'write src/util.py "two\\n"\ncommit "two"\nexit 0\n'
             "== restart ==\nshow-handoff\nidle\n"},
        ]
    )  # fmt: skip
    actions.up(fleet)
    monitor, pipe = Monitor(fleet), Pipeline(fleet, grace=0.5)
    try:
        drive(
            monitor,
            pipe,
            lambda s: all(s.agent(n).status.value == "ready" for n in ("one", "two")),
            what="ready",
        )
        actions.merge(fleet, "one")
        snap = drive(
            monitor,
            pipe,
            lambda s: any(g.name == "conflicts" and g.ok is False for g in s.agent("two").gates),
            timeout=10,
            what="two conflicts with base",
        )
        assert snap.agent("two").status.value != "ready"
        gate = next(g for g in snap.agent("two").gates if g.name == "conflicts")
        assert gate.detail == "conflicts with main in src/util.py"
        tip = gitad.rev_parse(fleet.layout.worktree("two"), "HEAD")
        said = run(fleet, "sync", "two", "--note", "keep both lines")
    finally:
        pipe.close()
    assert said.exit_code == 0, said.output
    assert "two conflicts with main: handed to it to merge" in said.output
    # The worktree is as it was; the agent got the conflict to merge itself.
    assert gitad.rev_parse(fleet.layout.worktree("two"), "HEAD") == tip
    assert (fleet.layout.worktree("two") / "src/util.py").read_text(encoding="utf-8") == "two\n"
    handoff = fleet.layout.handoff_file("two").read_text(encoding="utf-8")
    assert "these files conflict with it:\n\n- `src/util.py`" in handoff and "git merge main" in handoff
    assert "keep both lines" in handoff


def test_sync_merges_base_into_the_branch_when_clean(make_fleet, repo: Path) -> None:
    fleet = make_fleet([{"name": "api", "script": 'write src/api.py "x = 1\\n"\ncommit "api"\nexit 0\n'}])
    actions.up(fleet)
    wait_for(lambda: gitad.commits_since(fleet.layout.worktree("api"), "main"), what="api committed")
    (repo / "docs/more.md").write_text("more\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base moves")
    said = run(fleet, "sync", "api")
    assert said.exit_code == 0, said.output
    assert "merged main" in said.output and "into fleet/api in its worktree" in said.output
    assert (fleet.layout.worktree("api") / "docs/more.md").exists()
    assert gitad.is_ancestor(repo, "main", gitad.rev_parse(fleet.layout.worktree("api"), "HEAD"))
    assert run(fleet, "sync", "api").output.strip().endswith("nothing to sync")


def test_restart_with_a_note_puts_it_first_in_the_handoff(make_fleet) -> None:
    fleet = make_fleet([{"name": "api", "script": "idle\n== restart ==\nshow-handoff\nidle\n"}])
    actions.up(fleet)
    said = run(fleet, "restart", "api", "--yes", "--note", "Use the helper in src/util.py.", "--grace", "0.5")
    assert said.exit_code == 0, said.output
    handoff = fleet.layout.handoff_file("api").read_text(encoding="utf-8")
    assert "## A note from the person who runs this fleet\n\nUse the helper in src/util.py.\n" in handoff
    assert load_record(fleet, "api").rounds == 0  # a person's restart is no automatic round
    note = [e.details.get("note") for e in read_events(fleet.layout) if e.event == "restart"]
    assert note == ["Use the helper in src/util.py."]


def test_the_pipeline_runs_without_a_dashboard(make_fleet) -> None:
    fleet = make_fleet([{"name": "api", "script": 'write src/api.py "x = 1\\n"\ncommit "api"\nexit 0\n'}])
    actions.up(fleet)
    said = run(fleet, "pipeline", "--for", "6")
    assert said.exit_code == 0, said.output
    assert "api is ready to merge: every gate passed" in said.output
    assert "ready" in [e.event for e in read_events(fleet.layout)]
