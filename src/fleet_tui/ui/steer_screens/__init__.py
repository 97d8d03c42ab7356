"""The steering screens: kill and restart confirmations (`confirm`), the merge preflight (`merge`),
the merge-queue plan (`queue`), the event log (`log`), and a result modal (`base`). Engine calls run
in thread workers through the app's FleetSource; the screens only render.
"""

from fleet_tui.ui.steer_screens.base import ResultScreen, SteerModal
from fleet_tui.ui.steer_screens.confirm import KillScreen, RestartChoice, RestartScreen, stakes_lines
from fleet_tui.ui.steer_screens.log import EventsRead, LogScreen
from fleet_tui.ui.steer_screens.merge import (
    MergeChoice,
    MergeScreen,
    PreflightRead,
    mergeable,
    preflight_text,
)
from fleet_tui.ui.steer_screens.queue import QueuePlanned, QueueScreen

__all__ = [
    "EventsRead",
    "KillScreen",
    "LogScreen",
    "MergeChoice",
    "MergeScreen",
    "PreflightRead",
    "QueuePlanned",
    "QueueScreen",
    "RestartChoice",
    "RestartScreen",
    "ResultScreen",
    "SteerModal",
    "mergeable",
    "preflight_text",
    "stakes_lines",
]
