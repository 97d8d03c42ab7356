"""The supervisor wakes the dashboards that follow it at each publish (no polling for changes)."""

from __future__ import annotations

from typing import Any

from conftest import write_files

from fleet_tui.engine import supervisor, wakeup
from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import Layout


def test_a_listener_is_woken_and_a_dead_one_is_forgotten(tmp_path: Any) -> None:
    layout = Layout(root=tmp_path, worktree_root=tmp_path / "trees")
    listener = wakeup.Listener(layout)
    try:
        assert listener.wait(0.01) is False  # nothing published
        assert wakeup.wake_viewers(layout) == 1
        assert wakeup.wake_viewers(layout) == 1
        assert listener.wait(5.0) is True
        assert listener.wait(0.01) is False  # both wake-ups were taken at once
        listener.poke()
        assert listener.wait(5.0) is True
        gone = layout.state_dir / wakeup.VIEWERS / "4242-dead"
        gone.write_text(str(tmp_path / "no-such-socket") + "\n", encoding="utf-8")
        assert wakeup.wake_viewers(layout) == 1
        assert not gone.exists()  # a dashboard killed without closing: its entry is removed
    finally:
        listener.close()
    assert not listener.entry.exists()
    assert wakeup.wake_viewers(layout) == 0


def test_the_supervisor_wakes_a_listening_dashboard_when_it_publishes(make_fleet: Any) -> None:
    fleet: Fleet = make_fleet([{"name": "alpha", "script": 'say "ready"\nidle'}])
    up(fleet)
    supervisor.start(fleet)
    listener = wakeup.Listener(fleet.layout)
    try:
        write_files(fleet.layout.worktree("alpha"), {"docs/outside.md": "drift\n"})  # a change to publish
        woken = any(listener.wait(1.0) for _ in range(30))
        assert woken, "no wake-up within 30 s of a change"
    finally:
        listener.close()
