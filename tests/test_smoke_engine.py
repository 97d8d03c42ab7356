"""One end-to-end pass through the engine: up, a fake agent that drifts and asks, status."""

from __future__ import annotations

from helpers import wait_snapshot

from fleet_tui.engine.actions import up
from fleet_tui.engine.monitor import Monitor
from fleet_tui.models import Status


def test_up_reads_drift_and_question(make_fleet) -> None:
    fleet = make_fleet(
        [
            {
                "name": "alpha",
                "scope": ["src/**"],
                "script": 'write src/new.py "x = 1\\n"\nwrite docs/guide.md "changed\\n"\nask "Go on?"\n',
            }
        ],
        idle_after=5,
    )
    up(fleet)
    monitor = Monitor(fleet)
    snap = wait_snapshot(monitor, lambda s: s.agents[0].status == Status.WAITING, what="alpha waiting")
    alpha = snap.agents[0]
    assert alpha.drift == ("docs/guide.md",)
    assert {f.path for f in alpha.files} == {"src/new.py", "docs/guide.md"}
    assert "Go on?" in alpha.status_evidence
