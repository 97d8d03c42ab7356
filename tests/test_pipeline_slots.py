"""max_agents: tasks start as slots free up; reviewers wait for their doer (real tmux and git)."""

from __future__ import annotations

from helpers import wait_snapshot

from fleet_tui.engine import actions
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.state import load_state
from fleet_tui.models import Status

DONE = 'write src/{name}.py "x = 1\\n"\ncommit "{name}"\nexit 0\n'


def test_max_agents_starts_the_next_task_when_one_is_merged(make_fleet) -> None:
    tasks = [{"name": n, "table": "task", "script": DONE.format(name=n)} for n in ("t1", "t2", "t3")]
    fleet = make_fleet(tasks, max_agents=2)
    actions.up(fleet)
    state = load_state(fleet.layout)
    assert [state.agent(n).phase for n in ("t1", "t2", "t3")] == ["running", "running", "queued"]
    monitor = Monitor(fleet)
    snap = wait_snapshot(
        monitor,
        lambda s: s.agent("t1").status == Status.EXITED and s.agent("t2").status == Status.EXITED,
        what="t1 and t2 done",
    )
    assert snap.agent("t3").status == Status.QUEUED
    assert snap.agent("t3").status_reason == "waiting for a free slot (max_agents = 2)"
    assert fleet.start_ready() == []  # no slot is free: both still hold theirs

    result = actions.merge(fleet, "t1")

    assert result.started == ("started t3: a slot is free",)
    wait_snapshot(monitor, lambda s: s.agent("t3").status == Status.EXITED, what="t3 ran")
    # Its untouched branch moved up to base first: it built on what was merged meanwhile.
    assert (fleet.layout.worktree("t3") / "src/t1.py").exists()


def test_a_reviewer_waits_in_a_placeholder_and_is_never_merged(make_fleet) -> None:
    fleet = make_fleet(
        [{"name": "api", "script": DONE.format(name="api"), "review": "strict"}],
        preamble='[reviewer.strict]\ncommand = "echo reviewing; exit 0"\n',
    )
    actions.up(fleet)
    assert fleet.spec.names == ["api", "api-review"]
    snap = wait_snapshot(Monitor(fleet), lambda s: s.agent("api").status == Status.EXITED, what="api done")
    reviewer = snap.agent("api-review")
    assert reviewer.status == Status.QUEUED
    assert reviewer.status_reason == "reviewer of api: starts when api's gates pass"
    assert "api-review" not in {n for e in snap.overlaps for n in e.agents}
    plan = actions.plan_queue(fleet, snap)
    assert [i.agent for i in plan.items] == ["api"]
    assert not fleet.plan().overlaps  # the reviewer's scope covers everything, yet overlaps nobody
    pre = actions.preflight(fleet, "api-review", run_verify=False)
    assert not pre.ok and "a reviewer's changes are never merged" in pre.failures[0].detail


def test_one_pipeline_acts_per_fleet_the_others_only_show(make_fleet) -> None:
    from fleet_tui.engine.pipeline import Pipeline

    fleet = make_fleet([{"name": "api", "script": "idle\n"}])
    first, second = Pipeline(fleet), Pipeline(fleet)
    try:
        assert first.leading() and not second.leading()
        first.close()
        assert second.leading()  # the first one ended: the next takes over
    finally:
        first.close()
        second.close()
