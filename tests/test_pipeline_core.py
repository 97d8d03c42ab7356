"""The pipeline's pure core: verdict files, the ready rule, gate rows, retry context, the handoff."""

from __future__ import annotations

import pytest

from fleet_tui.handoff import HandoffData, build_handoff
from fleet_tui.models import AgentSnapshot, FleetSnapshot, GateResult, Status
from fleet_tui.pipeline_rules import (
    GATES,
    AgentFacts,
    PipelineRecord,
    failing_part,
    gate_row,
    gates_cell,
    is_ready,
    overlay,
    retry_context,
)
from fleet_tui.review_text import (
    PROMPT_MAX,
    VERDICT_HELP,
    Comment,
    Verdict,
    VerdictError,
    parse_verdict,
    review_prompt,
)
from fleet_tui.ui.format import summary_text

TIP, BASE = "a" * 40, "b" * 40


def passed(tip: str = TIP, base: str = BASE, **failing: str) -> PipelineRecord:
    gates = {
        name: GateResult(
            name=name, ok=name not in failing, detail=failing.get(name, "ok"), tip=tip, base_head=base
        )
        for name in GATES
    }
    return PipelineRecord(gates=gates)


# -- verdict files -----------------------------------------------------------------------------


def test_a_failing_verdict_with_located_comments() -> None:
    verdict = parse_verdict(
        "# written by the reviewer\n"
        "Verdict: FAIL\n"
        "- src/app.py:12: the error is swallowed;\n"
        "  log it instead\n"
        "- README.md: mention the new flag\n"
        "* the tests do not cover the empty list\n"
    )
    assert not verdict.passed
    assert verdict.comments == (
        Comment(text="the error is swallowed; log it instead", path="src/app.py", line=12),
        Comment(text="mention the new flag", path="README.md"),
        Comment(text="the tests do not cover the empty list"),
    )
    assert verdict.comments[0].render() == "src/app.py:12: the error is swallowed; log it instead"


def test_a_passing_verdict_needs_no_comments() -> None:
    assert parse_verdict("\nverdict: pass\n") == Verdict(passed=True)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- src/a.py:1: bad\n", "no `verdict: pass`"),
        ("verdict: maybe\n", "pass or fail, not 'maybe'"),
        ("verdict: pass\nverdict: fail\n", "more than one"),
        ("", "no `verdict: pass`"),
    ],
)
def test_a_verdict_file_that_says_nothing_clear_is_refused(text: str, words: str) -> None:
    with pytest.raises(VerdictError, match=words.replace("(", r"\(")):
        parse_verdict(text)


def test_the_review_prompt_carries_task_criteria_diff_and_where_to_write() -> None:
    prompt = review_prompt(
        doer="api",
        task="Add pagination.",
        scope=("src/api/**", "# comment"),
        done_when=("tests pass", "no new dependency"),
        base="main",
        branch="fleet/api",
        diff="+def page(): ...\n",
        verdict_path="/x/.fleet/agents/api-review/verdict.md",
        instructions="Be strict about errors.",
    )
    for words in (
        "Add pagination.",
        "- `src/api/**`",
        "- tests pass",
        "- no new dependency",
        "Be strict about errors.",
        "+def page(): ...",
        "/x/.fleet/agents/api-review/verdict.md",
        "verdict: pass",
    ):
        assert words in prompt
    assert "# comment" not in prompt


# -- the ready rule ------------------------------------------------------------------------------


def test_ready_only_when_every_gate_passed_at_this_commit_and_base() -> None:
    assert is_ready(passed(), TIP, BASE, reviewed=False)
    assert not is_ready(passed(verify="failed (exit 1)"), TIP, BASE, reviewed=False)
    assert not is_ready(passed(), TIP, "c" * 40, reviewed=False)  # base moved: results are stale
    assert not is_ready(passed(), "d" * 40, BASE, reviewed=False)  # new commit: stale too
    missing = passed()
    del missing.gates["drift"]
    assert not is_ready(missing, TIP, BASE, reviewed=False)
    assert not is_ready(
        passed().model_copy(update={"needs_person": "past max_rounds"}), TIP, BASE, reviewed=False
    )


def test_a_reviewed_agent_is_ready_only_with_a_pass_on_this_very_commit() -> None:
    record = passed()
    assert not is_ready(record, TIP, BASE, reviewed=True)
    record.review_tip, record.review_verdict = TIP, Verdict(passed=False, comments=(Comment(text="no"),))
    assert not is_ready(record, TIP, BASE, reviewed=True)
    record.review_verdict = Verdict(passed=True)
    assert is_ready(record, TIP, BASE, reviewed=True)
    record.review_tip = "e" * 40  # the pass was for another commit
    assert not is_ready(record, TIP, BASE, reviewed=True)


def test_gate_rows_show_stale_results_and_the_review() -> None:
    record = passed(verify="failed (exit 2)")
    rows = gate_row(record, TIP, BASE, reviewed=True)
    assert [g.name for g in rows] == [*GATES, "review"]
    assert [g.ok for g in rows] == [True, False, True, True, None]
    assert gates_cell(rows) == "u✓ v✗ c✓ d✓ r…"
    stale = gate_row(record, TIP, "c" * 40, reviewed=False)
    assert all(g.ok is None and g.detail.startswith("stale (was: ") for g in stale)
    assert gates_cell(()) == "-"


# -- what a retry is told ------------------------------------------------------------------------

PYTEST_OUTPUT = "\n".join(
    [
        "============ test session starts ============",
        *[f"tests/test_{i}.py ." for i in range(30)],
        "================= FAILURES =================",
        "____ test_total ____",
        "E   assert 3 == 4",
        "tests/test_total.py:7: AssertionError",
        "=== 1 failed, 30 passed in 0.2s ===",
    ]
)


def test_the_failing_part_of_a_verify_output() -> None:
    part = failing_part(PYTEST_OUTPUT)
    assert part.startswith("================= FAILURES")
    assert "E   assert 3 == 4" in part and "tests/test_3.py" not in part
    assert failing_part("\n".join(f"line {i}" for i in range(100)), limit=5) == "\n".join(
        f"line {i}" for i in range(95, 100)
    )  # no marker: the end of the output
    long = failing_part("FAILED x\n" + "\n".join(f"detail {i}" for i in range(500)), limit=30)
    assert len(long.splitlines()) == 30 and "lines cut" in long and long.endswith("detail 499")


def handoff(**retry: object) -> str:
    record = passed(verify="failed (exit 1)")
    record.verify_output = PYTEST_OUTPUT
    record.review_verdict = Verdict(
        passed=False, comments=(Comment(text="off by one", path="src/t.py", line=7),)
    )
    record.drift, record.drift_accepted = ("setup.cfg", "docs/x.md"), ("docs/x.md",)
    record.conflicts = ("src/util.py",)
    context = retry_context(record, verify_command="pytest -q", max_rounds=2, **retry)  # type: ignore[arg-type]
    data = HandoffData(
        agent="api", task="Add totals.", scope=("src/**",), base="main", branch="fleet/api",
        worktree="/w/api", attempt=1, max_restarts=2, reason="automatic: verify failed", retry=context,
    )  # fmt: skip
    return build_handoff(data)


def test_the_handoff_of_a_retry_says_what_to_fix() -> None:
    text = handoff(note="  Use the helper in src/util.py.  ", round=1)
    assert "## A note from the person who runs this fleet\n\nUse the helper in src/util.py.\n" in text
    assert "Automatic round 1 of 2" in text
    assert "### `pytest -q` failed on the merge with `main`" in text
    assert "E   assert 3 == 4" in text and "tests/test_3.py ." not in text
    assert "- src/t.py:7: off by one" in text
    assert "- `setup.cfg`" in text and "`docs/x.md`" not in text.split("### Changes outside")[1]
    assert "these files conflict with it:\n\n- `src/util.py`" in text and "Do not rebase." in text
    assert text.index("## What to fix") < text.index("## Task")


def test_a_plain_restart_handoff_has_no_fix_section() -> None:
    data = HandoffData(
        agent="api", task="t", scope=("src/**",), base="main", branch="fleet/api", worktree="/w",
        attempt=1, max_restarts=2, reason="asked by the person",
    )  # fmt: skip
    text = build_handoff(data)
    assert (
        "## What to fix" not in text and "note from the person" not in text and "Automatic round" not in text
    )


# -- the overlay on a fleet snapshot -----------------------------------------------------------------


def agent(name: str, status: Status, role: str = "agent") -> AgentSnapshot:
    return AgentSnapshot(
        name=name, task="t", branch=f"fleet/{name}", worktree="/w", preset="shell", status=status,
        status_reason="input prompt on screen", status_since=1.0, role=role,
    )  # fmt: skip


def test_overlay_marks_settled_agents_with_green_gates_ready_and_builds_the_queue() -> None:
    snap = FleetSnapshot(
        fleet="f", base="main", repo="/r", session="f", socket="s", session_alive=True, taken_at=5.0,
        agents=(
            agent("idle", Status.IDLE), agent("busy", Status.WORKING), agent("wait", Status.QUEUED),
            agent("gone", Status.MERGED), agent("idle-review", Status.QUEUED),
        ),
    )  # fmt: skip
    record = passed()
    record.ready_since = 3.0
    facts = {
        n: AgentFacts(
            role="reviewer" if n.endswith("review") else "task", reviewed=False, max_rounds=2, tip=TIP
        )
        for n in ("idle", "busy", "wait", "gone", "idle-review")
    }
    out = overlay(snap, {"idle": record, "busy": record}, facts, BASE, max_agents=2)
    idle, busy = out.agent("idle"), out.agent("busy")
    assert idle is not None and busy is not None
    assert idle.status == Status.READY and idle.status_since == 3.0
    assert idle.status_reason == "every gate passed (idle: input prompt on screen)"
    assert busy.status == Status.WORKING  # still working: its green gates are for an older moment
    assert len(idle.gates) == 4
    assert out.queue is not None
    assert (out.queue.pending, out.queue.active, out.queue.done, out.queue.max_agents) == (
        ("wait",),
        ("idle", "busy"),
        ("gone",),
        2,
    )
    assert "queue" in out.to_json() and '"ready"' in out.to_json()
    assert "queue (max 2): 1 pending · 2 active · 1 done · 0 failed" in summary_text(out).plain
    assert "1 ready" in summary_text(out).plain


def test_overlay_carries_the_reviewers_comments_on_this_commit() -> None:
    snap = FleetSnapshot(
        fleet="f", base="main", repo="/r", session="f", socket="s", session_alive=True, taken_at=5.0,
        agents=(agent("api", Status.IDLE),),
    )  # fmt: skip
    record = passed()
    record.review_tip = TIP
    record.review_verdict = Verdict(
        passed=False, comments=(Comment(text="no tests", path="src/a.py", line=3),)
    )
    facts = {"api": AgentFacts(role="agent", reviewed=True, max_rounds=2, tip=TIP)}
    api = overlay(snap, {"api": record}, facts, BASE, max_agents=None).agent("api")
    assert api is not None and api.review_comments == ("src/a.py:3: no tests",)
    assert api.status == Status.IDLE and api.gates[-1].ok is False
    moved = overlay(snap, {"api": record}, {"api": AgentFacts("agent", True, 2, "f" * 40)}, BASE, None)
    assert moved.agent("api").review_comments == ()  # a verdict on an older commit says nothing now


def test_the_review_prompt_fits_in_one_command_line_argument() -> None:
    # 60,000 characters of a diff in a script of three bytes a character: over 128 KiB if not cut
    prompt = review_prompt(
        doer="api", task="t " * 20_000, scope=["src/**"], done_when=["works"], base="main",
        branch="fleet/api", diff="+漢字かな\n" * 20_000, verdict_path="/v.md",
    )  # fmt: skip
    assert len(prompt.encode()) <= PROMPT_MAX
    assert "[... diff cut" in prompt and prompt.rstrip().endswith(VERDICT_HELP.format(path="/v.md").rstrip())
