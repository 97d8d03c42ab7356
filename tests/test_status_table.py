"""`fleet-tui status`'s table fits the terminal: one line per agent at 80 and at 200 columns."""

from __future__ import annotations

from memory_fleet import NOW, agent, demo_snapshot

from fleet_tui.cli.status_table import status_lines
from fleet_tui.models import FleetSnapshot, GateResult, Status

LONG_REASON = "waiting pattern matched: Do you want to overwrite the example in README.md and docs? [y/n]"


def busy_snapshot() -> FleetSnapshot:
    """The demo's agents, plus one with every column filled and a long reason."""
    gates = tuple(
        GateResult(name=n, ok=ok, detail="", checked_at=NOW)
        for n, ok in (("uncommitted", True), ("verify", False), ("conflicts", True), ("drift", None))
    )
    loud = agent(
        "inventory-report-writer",
        Status.WAITING,
        status_reason="waiting pattern matched",
        status_evidence="Do you want to overwrite the example in README.md and docs? [y/n]",
        commits_ahead=12,
        context_used=64.0,
        gates=gates,
        added=1200,
        removed=340,
    )
    base = demo_snapshot()
    return base.model_copy(update={"agents": (*base.agents, loud)})


def plain(snapshot: FleetSnapshot, width: int) -> list[str]:
    return [line.plain for line in status_lines(snapshot, width)]


def test_at_80_columns_every_agent_is_one_line_that_fits() -> None:
    snapshot = busy_snapshot()
    lines = plain(snapshot, 80)
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    rows = lines[1 : 1 + len(snapshot.agents)]
    for row, shown in zip(rows, snapshot.agents, strict=True):
        assert row.startswith(shown.name[:15]), row  # one line per agent, in fleet order
        assert shown.status.value in row  # the status word is never cut
    loud = rows[-1]
    assert "waiting pattern" in loud and loud.endswith("…")  # the reason is cut, marked
    assert "✗" in loud  # the failing gate is still in sight
    assert loud.startswith("inventory-repor… ")  # a long name is cut to leave room, marked
    assert lines[len(snapshot.agents) + 1].startswith("(ctx, ahead, +/- left out")  # said, not hidden


def test_at_200_columns_everything_is_shown_in_full() -> None:
    snapshot = busy_snapshot()
    lines = plain(snapshot, 200)
    assert all(len(line) <= 200 for line in lines)
    assert lines[0].split() == [
        "agent", "status", "files", "+/-", "ahead", "drift", "overlap", "gates", "ctx", "reason"
    ]  # fmt: skip
    assert len(lines) == 1 + len(snapshot.agents)  # nothing left out, no note
    assert lines[-1].endswith(LONG_REASON) and "64%" in lines[-1] and "+1200/-340" in lines[-1]


def test_overlap_names_the_other_agents_only() -> None:
    rows = {line.split()[0]: line for line in plain(demo_snapshot(), 200)[1:]}
    assert " docs " in rows["api"] and " api " not in rows["api"]
    assert " api " in rows["docs"]
