"""The pipeline end to end: scripted fake doers and reviewers, real tmux, real git."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import fake_agent_command, git
from helpers import wait_for

from fleet_tui.adapters import git as gitad
from fleet_tui.engine import actions
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.pipeline import Pipeline, load_record
from fleet_tui.engine.state import load_state, read_events
from fleet_tui.models import FleetSnapshot, Status


def drive(
    monitor: Monitor,
    pipe: Pipeline,
    predicate: Callable[[FleetSnapshot], bool],
    timeout: float = 25.0,
    what: str = "",
    each: Callable[[FleetSnapshot], None] | None = None,
    lag: int = 0,
) -> FleetSnapshot:
    """Tick the monitor and step the pipeline until the pipeline's view satisfies `predicate`.

    With `lag`, the pipeline is handed the reading of `lag` ticks ago, as a loaded machine does
    (a reading taken before the pipeline's last action reaches it after that action)."""
    deadline = time.monotonic() + timeout
    readings: list[FleetSnapshot] = []
    while True:
        monitor.mark_dirty()
        readings = [*readings, monitor.tick()][-(lag + 1) :]
        snap = pipe.step(readings[0])
        if each is not None:
            each(snap)
        if predicate(snap):
            return snap
        if time.monotonic() > deadline:
            summary = [
                (a.name, a.status.value, a.status_reason, [g.detail for g in a.gates]) for a in snap.agents
            ]
            raise AssertionError(f"timed out waiting for {what}: {summary}; pipeline said {pipe.messages}")
        time.sleep(0.15)


def test_verify_runs_on_the_merge_result_and_a_failure_is_retried_then_handed_to_a_person(
    make_fleet, repo: Path
) -> None:
    verify = 'if [ -e src/flag.py ]; then echo "FAILED: src/flag.py must not exist"; exit 1; fi; echo fine'
    fleet = make_fleet(
        [
            {
                "name": "api",
                "verify": verify,
                "max_rounds": 1,
                "script": 'write src/api.py "x = 1\\n"\ncommit "api"\nexit 0\n'
                "== restart ==\nshow-handoff\nexit 0\n",
            }
        ]
    )
    actions.up(fleet)
    # Base moves after the agent started: its branch alone passes, the merge with base does not.
    (repo / "src/flag.py").write_text("FLAG = 1\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base adds a flag")
    monitor, pipe = Monitor(fleet), Pipeline(fleet, grace=0.5)
    try:
        # Round 1: the failing part of the output goes into the handoff.
        drive(monitor, pipe, lambda s: load_record(fleet, "api").rounds == 1, what="round 1")
        # The round is recorded before its restart writes the handoff (in the pipeline's worker).
        handoff_file = fleet.layout.handoff_file("api")
        wait_for(
            lambda: handoff_file.exists() and "Automatic round" in handoff_file.read_text(), what="handoff"
        )
        handoff = handoff_file.read_text(encoding="utf-8")
        assert "failed on the merge with `main`" in handoff
        assert "FAILED: src/flag.py must not exist" in handoff
        assert "Automatic round 1 of 1" in handoff
        assert not (fleet.layout.worktree("api") / "src/flag.py").exists()  # its branch lacks it
        # The same failure again: max_rounds is used up, a person decides, the slot is freed.
        snap = drive(monitor, pipe, lambda s: bool(s.agent("api").needs_person), what="needs a person")
    finally:
        pipe.close()
    api = snap.agent("api")
    assert api is not None and api.status != Status.READY
    assert "max_rounds" in api.needs_person and "failed (exit 1) on the merge with main" in api.needs_person
    assert load_state(fleet.layout).agent("api").needs_human
    assert snap.queue is not None and snap.queue.failed == ("api",)
    verify_gate = next(g for g in api.gates if g.name == "verify")
    assert verify_gate.ok is False
    # The throwaway worktrees are gone.
    listed = gitad.worktrees(repo)
    assert sorted(p.name for p in listed) == ["api", "repo"]
    assert [e.event for e in read_events(fleet.layout)].count("retry") == 1


REVIEWER = (
    'unless-file "$FLEET_VERDICT_FILE.seen" write "$FLEET_VERDICT_FILE" '
    '"verdict: fail\\n- src/api.py:1: add a docstring\\n"\n'
    'if-file "$FLEET_VERDICT_FILE.seen" write "$FLEET_VERDICT_FILE" "verdict: pass\\n"\n'
    'touch "$FLEET_VERDICT_FILE.seen"\n'
    "exit 0\n"
)


@pytest.mark.parametrize("lag", [0, 3], ids=["fresh readings", "readings 3 ticks late"])
def test_a_reviewer_fails_the_doer_once_with_comments_then_passes_it(
    make_fleet, tmp_path: Path, lag: int
) -> None:
    script = tmp_path / "reviewer.txt"
    script.write_text(REVIEWER, encoding="utf-8")
    fleet = make_fleet(
        [
            {
                "name": "api",
                "review": "strict",
                "done_when": ["the module has a docstring"],
                "script": 'write src/api.py "x = 1\\n"\ncommit "api"\nexit 0\n== restart ==\n'
                'write src/api.py "\\"\\"\\"The api.\\"\\"\\"\\nx = 1\\n"\ncommit "docstring"\nexit 0\n',
            }
        ],
        preamble=f"[reviewer.strict]\ncommand = '{fake_agent_command(script)}'\n",
    )
    actions.up(fleet)
    monitor, pipe = Monitor(fleet), Pipeline(fleet, grace=0.5)
    try:
        snap = drive(
            monitor,
            pipe,
            lambda s: (
                s.agent("api").status == Status.READY
                and "ready" in [e.event for e in read_events(fleet.layout)]
            ),
            timeout=60,
            what="ready, and said so",
            lag=lag,
        )
    finally:
        pipe.close()
    assert not [m for m in pipe.messages if "needs a person" in m], pipe.messages
    handoff = fleet.layout.handoff_file("api").read_text(encoding="utf-8")
    assert "### The reviewer's comments" in handoff and "- src/api.py:1: add a docstring" in handoff
    prompt = fleet.layout.prompt_file("api-review").read_text(encoding="utf-8")
    assert "- the module has a docstring" in prompt and "The api." in prompt  # the second round's diff
    verdicts = [e.details["passed"] for e in read_events(fleet.layout) if e.event == "verdict"]
    assert verdicts == [False, True]
    api = snap.agent("api")
    assert api is not None and api.rounds == 1
    assert [g.ok for g in api.gates] == [True, True, True, True, True]
    reviewer = snap.agent("api-review")
    assert reviewer is not None and reviewer.role == "reviewer" and reviewer.status == Status.EXITED
    # The reviewer sits on the doer's commit; its branch is never merged.
    assert gitad.rev_parse(fleet.layout.worktree("api-review"), "HEAD") == gitad.rev_parse(
        fleet.layout.worktree("api"), "HEAD"
    )


def test_six_tasks_through_three_slots_merge_in_an_order_that_respects_depends_on(make_fleet) -> None:
    deps = {"t1": [], "t2": [], "t3": ["t1"], "t4": [], "t5": ["t3"], "t6": ["t2"]}
    tasks = [
        {
            "name": name,
            "table": "task",
            "depends_on": after,
            "script": f'write src/{name}.py "x = 1\\n"\ncommit "{name}"\nexit 0\n',
        }
        for name, after in deps.items()
    ]
    fleet = make_fleet(tasks, max_agents=3)
    actions.up(fleet)
    merged: list[str] = []
    most_active = 0

    def merge_ready(snap: FleetSnapshot) -> None:
        nonlocal most_active
        assert snap.queue is not None
        most_active = max(most_active, len(snap.queue.active))
        for agent in snap.agents:
            if agent.status == Status.READY:
                actions.merge(fleet, agent.name)
                merged.append(agent.name)

    monitor, pipe = Monitor(fleet), Pipeline(fleet, grace=0.5)
    try:
        snap = drive(
            monitor, pipe, lambda s: len(merged) == 6, timeout=60, what="all merged", each=merge_ready
        )
    finally:
        pipe.close()
    assert sorted(merged) == sorted(deps)
    for name, after in deps.items():
        assert all(merged.index(d) < merged.index(name) for d in after), merged
    assert most_active <= 3
    assert snap.queue is not None and len(snap.queue.done) + len(merged) >= 6
