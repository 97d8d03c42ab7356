"""Waiting helpers: poll real tmux and git until a condition holds, instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from fleet_tui.engine.monitor import Monitor
from fleet_tui.models import FleetSnapshot

T = TypeVar("T")


def wait_for(fn: Callable[[], T], timeout: float = 20.0, interval: float = 0.1, what: str = "") -> T:
    """Call `fn` until it returns something truthy; fail with its last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T = fn()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or fn}: last {last!r}")
        time.sleep(interval)
        last = fn()
    return last


def wait_snapshot(
    monitor: Monitor,
    predicate: Callable[[FleetSnapshot], bool],
    timeout: float = 20.0,
    what: str = "",
) -> FleetSnapshot:
    """Tick the monitor (re-reading git every time) until the snapshot satisfies `predicate`."""
    deadline = time.monotonic() + timeout
    while True:
        monitor.mark_dirty()
        snapshot = monitor.tick()
        if predicate(snapshot):
            return snapshot
        if time.monotonic() > deadline:
            summary = [(a.name, a.status.value, a.status_reason, a.tail[-2:]) for a in snapshot.agents]
            raise AssertionError(f"timed out waiting for {what or predicate}: {summary}")
        time.sleep(0.2)
