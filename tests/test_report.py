"""The retrospective on a real fleet of fake agents: waits, a crash, a restart, two merges."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from helpers import wait_for

from fleet_tui.cli import cli
from fleet_tui.engine import actions
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.state import read_events
from fleet_tui.models import FleetSnapshot, Status

SHARED = "def helper(x):\\n    return x + 2\\n"  # both agents write it: an overlap that merges cleanly
ACTIONS = {"started": "starting", "restart": "starting", "merged": "merged", "kill": "killed"}


def expected_figures(events: list[Any], name: str) -> tuple[dict[str, float], list[float]]:
    """Seconds per status and each wait, straight from the log: an action (start, restart, merge,
    kill) or a logged status change ends the status before it; a change whose `previous` names a
    status the log did not show (the monitor saw it first) relabels the stretch since the last one."""
    totals: dict[str, float] = defaultdict(float)
    waits: list[float] = []
    current: str | None = None
    since = 0.0
    before_action: str | None = None
    for e in (e for e in events if e.agent == name):
        kind, details = e.event, e.details
        if kind in ACTIONS:
            new, after_action = ACTIONS[kind], current
        elif kind == "status":
            new, after_action = details["status"], None
            if current in ("merged", "killed") or new == current:
                continue
            if current is not None and details.get("previous") not in (current, before_action):
                current = details["previous"]
        else:
            continue
        if current is not None:
            totals[current] += e.time - since
            if current == "waiting":
                waits.append(e.time - since)
        current, since, before_action = new, e.time, after_action
    return totals, waits


def test_report_figures_match_the_event_log(make_fleet: Any, repo: Path, tmp_path: Path) -> None:
    cue = tmp_path / "crash-now"
    fleet = make_fleet(
        [
            {
                "name": "alpha",
                "scope": ["src/**"],
                "script": "\n".join(
                    [
                        'write src/app.py "def main():\\n    return 2\\n"',
                        f'write src/util.py "{SHARED}"',
                        'commit "alpha: app"',
                        'ask "Ship it?"',
                        'write src/extra.py "X = 1\\n"',
                        'commit "alpha: extra"',
                    ]
                ),
            },
            {
                "name": "beta",
                "scope": ["docs/**", "src/util.py"],
                "script": "\n".join(
                    [
                        'write docs/guide.md "# Guide\\n\\nMore.\\n"',
                        'write README.md "# drifted\\n"',
                        f'write src/util.py "{SHARED}"',
                        'commit "beta: guide"',
                        f"wait-file {cue}",
                        "crash",
                        "== restart ==",
                        'write docs/next.md "next\\n"',
                        'commit "beta: next"',
                    ]
                ),
            },
        ],
        idle_after=1,
    )
    actions.up(fleet)
    latest: list[FleetSnapshot] = []
    stop = threading.Event()
    monitor = Monitor(fleet, log_changes=True)
    feed = threading.Thread(target=monitor.run, args=(latest.append, stop, 0.2), daemon=True)
    feed.start()

    def status(name: str) -> Status | None:
        agent = latest[-1].agent(name) if latest else None
        return agent.status if agent else None

    def published_more(count: int) -> Any:
        seen = len(latest)
        return lambda: len(latest) >= seen + count

    try:
        wait_for(lambda: status("alpha") == Status.WAITING, timeout=30, what="alpha asks")
        wait_for(published_more(4), what="the person taking a moment")
        fleet.send("alpha", "y")
        cue.touch()
        wait_for(lambda: status("beta") == Status.CRASHED, timeout=30, what="beta crashes")
        wait_for(published_more(3), what="the crash noticed")
        actions.restart(fleet, "beta", reason="it crashed")
        for name in ("alpha", "beta"):
            wait_for(lambda n=name: status(n) == Status.IDLE, timeout=30, what=f"{name} idle")
        actions.merge(fleet, "alpha")
        actions.merge(fleet, "beta", allow_drift=True)  # its README.md is drift, accepted
        plan = fleet.layout.state_dir / "plan.md"
        wait_for(
            lambda: plan.exists() and "merge order: alpha -> beta" in plan.read_text(encoding="utf-8"),
            timeout=20,
            what="the living plan to show the merges",
        )
    finally:
        stop.set()
        monitor.mark_dirty([])
        feed.join(timeout=10)
    living = plan.read_text(encoding="utf-8")
    beta_row = next(line for line in living.splitlines() if line.startswith("| **beta**"))
    assert "| merged |" in beta_row and "`README.md`" in beta_row  # status and drift, kept current
    assert "overlap alpha (1 files)" in beta_row and beta_row.endswith("| alpha (1 files) |")

    events = read_events(fleet.layout)
    args = ["report", "-C", str(repo), "-f", str(tmp_path / "fleet.toml")]
    result = CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)

    agents = {a["name"]: a for a in report["agents"]}
    working_sum = waiting_sum = 0.0
    for name in ("alpha", "beta"):
        totals, waits = expected_figures(events, name)
        got = agents[name]
        for key in ("working", "waiting", "idle", "crashed"):
            assert abs(got[key] - totals[key]) < 1e-6, (name, key, got[key], totals[key])
        assert [round(w["seconds"], 6) for w in got["waits"]] == [round(w, 6) for w in waits]
        working_sum += totals["working"]
        waiting_sum += totals["waiting"]
    assert agents["alpha"]["waits"] and agents["alpha"]["waiting"] > 0  # the question was a wait
    assert agents["beta"]["crashed"] > 0
    assert [r["reason"] for r in agents["beta"]["restarts"]] == ["it crashed"]
    assert agents["alpha"]["restarts"] == []
    assert agents["beta"]["drift"] == ["README.md"]
    assert report["merge_order"] == ["alpha", "beta"]
    predicted = [(c["kind"], c["agents"], c["files"]) for c in report["predicted"]]
    assert predicted == [("overlap", ["alpha", "beta"], ["src/util.py"])]
    actual = [(c["kind"], c["agents"], c["files"]) for c in report["actual"]]
    assert actual == [("overlap", ["alpha", "beta"], ["src/util.py"])]

    starts = [e.time for e in events if e.event == "started"]
    merges = [e.time for e in events if e.event == "merged"]
    wall = max(merges) - min(starts)
    assert abs(report["wall"] - wall) < 1e-6
    assert abs(report["working"] - working_sum) < 1e-6
    assert abs(report["waiting"] - waiting_sum) < 1e-6
    assert abs(report["speedup"] - working_sum / wall) < 1e-6
    assert not report["running"]
    verdict = " ".join(report["verdict"])
    if waiting_sum > working_sum:
        assert "waited longer for the person" in verdict
    else:
        assert "waiting for the person" in verdict
    assert "1 crash and 1 restart;" in verdict
    assert "1 collision predicted, 1 real overlap and 0 refused merges happened." in verdict

    markdown = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert markdown.exit_code == 0
    assert "## Verdict" in markdown.output and "merge order" in markdown.output
    assert "| beta |" in markdown.output and "beta: attempt 1: it crashed" in markdown.output

    svg = tmp_path / "timeline.svg"
    drawn = CliRunner().invoke(cli, [*args, "--svg", str(svg)], catch_exceptions=False)
    assert drawn.exit_code == 0
    root = ET.fromstring(svg.read_text(encoding="utf-8"))
    ns = "{http://www.w3.org/2000/svg}"
    rows = [g for g in root.iter(f"{ns}g") if g.get("class") == "agent"]
    assert [g.get("data-agent") for g in rows] == ["alpha", "beta"]
    statuses = {g.get("data-agent"): {r.get("data-status") for r in g.iter(f"{ns}rect")} for g in rows}
    assert "waiting" in statuses["alpha"] and "crashed" in statuses["beta"]
    marks = [m.get("data-kind") for g in rows for m in g.iter(f"{ns}g") if m.get("class") == "mark"]
    assert marks.count("merge") == 2 and marks.count("restart") == 1 and "wait" in marks


def test_report_refuses_an_svg_in_a_missing_folder(repo: Path, tmp_path: Path) -> None:
    (repo / "fleet.toml").write_text(
        '[[agent]]\nname = "a"\ntask = "t"\nscope = ["src/**"]\npreset = "shell"\n', encoding="utf-8"
    )
    target = tmp_path / "nowhere" / "t.svg"
    result = CliRunner().invoke(cli, ["report", "-C", str(repo), "--svg", str(target)])
    assert result.exit_code == 2
    assert "the folder" in result.output and "does not exist" in result.output
    assert "Traceback" not in result.output and not target.parent.exists()


def test_report_of_a_fleet_that_never_ran(repo: Path) -> None:
    (repo / "fleet.toml").write_text(
        '[[agent]]\nname = "a"\ntask = "t"\nscope = ["src/**"]\npreset = "shell"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["report", "-C", str(repo), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["wall"] == 0 and data["verdict"] == ["Nothing has run yet: there is no history to judge."]
