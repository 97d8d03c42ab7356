"""A fleet made in memory, for the dashboard's tests without tmux or git.

`StaticSource` is the in-memory `FleetSource` (ui/source.py): it publishes snapshots built here,
serves diffs and file states from dicts, answers "may this action apply" with the engine's own
`permit`, and records every steering call (`steered`) instead of doing it, answering with canned
results. `demo_snapshot()` is four agents in typical states, for the Pilot tests and the SVGs.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fleet_tui.adapters.tmux import client_env
from fleet_tui.engine.actions import (
    Check,
    MergeRefused,
    MergeResult,
    Outcome,
    Preflight,
    QueueItem,
    QueuePlan,
    QueueResult,
    Stakes,
)
from fleet_tui.engine.actions.permits import LIVE, Permit, permit
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import Event
from fleet_tui.errors import FleetError
from fleet_tui.models import AgentSnapshot, FileChange, FleetSnapshot, OverlapEntry, Status
from fleet_tui.ui.source import OnError, Publish

NOW = 1_700_000_000.0

API_SCREEN = (
    "\x1b[1;36m● fake-agent\x1b[0m working on: add pagination to /items\n"
    "  \x1b[32m✎ wrote\x1b[0m src/api/items.py\n"
    "  \x1b[32m✎ edited\x1b[0m src/shared/config.py\n"
    "  \x1b[33m● committed:\x1b[0m paginate items\n"
    "⠹ running tests (3)\n"
)
DOCS_SCREEN = (
    "\x1b[1;36m● fake-agent\x1b[0m working on: document pagination\n"
    "  \x1b[32m✎ wrote\x1b[0m docs/pagination.md\n"
    "  \x1b[32m✎ edited\x1b[0m src/shared/config.py\n"
    "Overwrite the example in README.md? [y/n] "
)
UI_SCREEN = "\x1b[1;36m● fake-agent\x1b[0m building the table\nTraceback (most recent call last):\n" + (
    '  File "agent.py", line 12, in <module>\n\x1b[31mRuntimeError: the fake agent crashed on cue\x1b[0m\n'
)

ITEMS_DIFF = """diff --git a/src/api/items.py b/src/api/items.py
index 3b18e51..a9c3f0d 100644
--- a/src/api/items.py
+++ b/src/api/items.py
@@ -1,9 +1,17 @@
 from fastapi import APIRouter
+from fleet.pagination import Page, paginate

 router = APIRouter()


 @router.get("/items")
-def list_items():
-    return ITEMS
+def list_items(page: int = 1, size: int = 50) -> Page:
+    \"\"\"Items, one page at a time; the response shape stays the same.\"\"\"
+    if page < 1:
+        raise ValueError("page starts at 1")
+    return paginate(ITEMS, page=page, size=size)
+
+
+def count_items() -> int:
+    return len(ITEMS)
"""


def agent(name: str, status: Status, **fields: object) -> AgentSnapshot:
    data: dict[str, object] = {
        "name": name,
        "task": f"task of {name}",
        "branch": f"fleet/{name}",
        "worktree": f"/tmp/demo-fleet/{name}",
        "preset": "shell",
        "status": status,
        "status_reason": "output changed in the last 15s",
        "status_since": NOW - 42,
        "started_at": NOW - 754,
        "pane_id": None,
    }
    data.update(fields)
    files = data.get("files", ())
    assert isinstance(files, tuple)
    data.setdefault("added", sum(f.added or 0 for f in files))
    data.setdefault("removed", sum(f.removed or 0 for f in files))
    return AgentSnapshot(**data)  # type: ignore[arg-type]


def demo_snapshot(now: float = NOW) -> FleetSnapshot:
    shared = "src/shared/config.py"
    api_files = (
        FileChange(path="src/api/items.py", added=9, removed=2),
        FileChange(path=shared, added=3, removed=1, in_scope=False),
        FileChange(path="src/api/logo.png", added=None, removed=None, untracked=True),
    )
    docs_files = (
        FileChange(path="docs/pagination.md", added=40, removed=0, untracked=True),
        FileChange(path=shared, added=1, removed=0, in_scope=False),
    )
    overlap = {shared: ("api", "docs")}
    agents = (
        agent(
            "api",
            Status.WORKING,
            task="Add pagination to the /items endpoint.\nKeep the response shape.",
            files=api_files,
            drift=(shared,),
            overlap=overlap,
            commits_ahead=1,
            screen=API_SCREEN,
            tail=("⠹ running tests (3)",),
            pane_id="%1",
        ),
        agent(
            "docs",
            Status.WAITING,
            task="Document pagination in docs/.",
            status_reason="waiting pattern matched",
            status_evidence="[y/n]",
            status_since=now - 8,
            files=docs_files,
            drift=(shared,),
            overlap=overlap,
            screen=DOCS_SCREEN,
            tail=("Overwrite the example in README.md? [y/n]",),
            pane_id="%2",
        ),
        agent(
            "ui",
            Status.CRASHED,
            status_reason="exited with code 1",
            exit_code=1,
            status_since=now - 125,
            restarts=1,
            screen=UI_SCREEN,
            tail=("RuntimeError: the fake agent crashed on cue",),
            pane_id="%3",
        ),
        agent(
            "search",
            Status.QUEUED,
            status_reason="waiting for api",
            status_since=now - 754,
            started_at=None,
            waiting_for=("api",),
            depends_on=("api",),
            pane_id="%4",
            tail=("queued: waiting for api to be merged",),
        ),
    )
    return FleetSnapshot(
        fleet="shop",
        base="main",
        repo="/tmp/demo",
        session="shop",
        socket="fleet-tui",
        session_alive=True,
        taken_at=now,
        agents=agents,
        overlaps=(OverlapEntry(path=shared, agents=("api", "docs")),),
    )


def demo_source(**kwargs: object) -> StaticSource:
    """The demo snapshot with a diff and file states for `api`."""
    return StaticSource(
        snapshots=[demo_snapshot()],
        diffs={
            ("api", "src/api/items.py"): ITEMS_DIFF,
            ("api", "src/api/logo.png"): "",
        },
        states={
            "api": {
                "src/api/items.py": ("committed", "uncommitted"),
                "src/shared/config.py": ("uncommitted",),
                "src/api/logo.png": ("untracked",),
            }
        },
        **kwargs,  # type: ignore[arg-type]
    )


@dataclass
class StaticSource:
    """Snapshots built in memory. `push()` publishes another one; `read_delay` makes every reading
    (and every diff) slow on purpose; `repeat` re-reads the last snapshot forever, like the monitor.
    Steering is recorded in `steered` and answered from `stakes_of`, `preflights`, `queue_plan`,
    `refuse` (agents whose merge is refused) or defaults made from the latest snapshot."""

    snapshots: list[FleetSnapshot] = field(default_factory=list)
    diffs: dict[tuple[str, str], str] = field(default_factory=dict)
    states: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    read_delay: float = 0.0
    repeat: bool = False
    interval: float = 1.0  # with `repeat`: pause between readings, like the monitor's tick
    bell: bool = True
    notify: bool = True
    fail: set[str] = field(default_factory=set)  # method names that raise, to test failures
    sent: list[tuple[str, str]] = field(default_factory=list)
    histories: dict[str, str] = field(default_factory=dict)  # agent -> its pane's history text
    acks: dict[str, str] = field(default_factory=dict)  # what the person already looked at
    shown: str | None = None  # the agent the dashboard said it shows
    refreshed: list[tuple[str, ...] | None] = field(default_factory=list)
    fleet: Fleet | None = None
    base: str | None = None  # None: no fleet is open (steering keys dim); "main" to steer in memory
    stakes_of: dict[str, Stakes] = field(default_factory=dict)
    preflights: dict[str, Preflight] = field(default_factory=dict)
    queue_plan: QueuePlan | None = None
    refuse: set[str] = field(default_factory=set)
    event_log: list[Event] = field(default_factory=list)
    steered: list[tuple[str, ...]] = field(default_factory=list)
    auto_restarts: bool = False

    def __post_init__(self) -> None:
        self._queue: queue.Queue[FleetSnapshot] = queue.Queue()
        self._latest = self.snapshots[-1] if self.snapshots else None
        self.stopped = threading.Event()  # set when the monitor loop (`run`) has returned
        for snapshot in self.snapshots:
            self._queue.put(snapshot)

    def push(self, snapshot: FleetSnapshot) -> None:
        self._latest = snapshot
        self._queue.put(snapshot)

    def _check(self, what: str) -> None:
        if what in self.fail:
            raise FleetError(f"{what} failed on purpose", f"the test asked {what} to fail")

    def _agent(self, name: str) -> AgentSnapshot:
        found = self._latest.agent(name) if self._latest else None
        if found is None:
            raise FleetError(f"no agent named {name!r} in this fleet")
        return found

    @property
    def agent_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self._latest.agents) if self._latest else ()

    # -- readings ---------------------------------------------------------------------------

    def run(self, publish: Publish, stop: threading.Event, on_error: OnError) -> None:
        try:
            self._run(publish, stop, on_error)
        finally:
            self.stopped.set()

    def _run(self, publish: Publish, stop: threading.Event, on_error: OnError) -> None:
        last: FleetSnapshot | None = None
        while not stop.is_set():
            try:
                last = self._queue.get(timeout=self.interval if self.repeat else 0.05)
            except queue.Empty:
                if not (self.repeat and last is not None):
                    continue
            if self.read_delay:
                time.sleep(self.read_delay)  # the slow reading happens here, in the worker thread
            try:
                self._check("run")
            except FleetError as exc:
                on_error(str(exc))
                continue
            if last is not None:
                publish(last)

    def refresh(self, names: Iterable[str] | None = None) -> None:
        self.refreshed.append(tuple(names) if names is not None else None)

    def wake(self) -> None:
        pass

    def show(self, agent: str | None) -> None:
        self.shown = agent

    def reload(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def file_states(self, agent: AgentSnapshot) -> dict[str, tuple[str, ...]]:
        self._check("file_states")
        return self.states.get(agent.name, {})

    def diff(self, agent: AgentSnapshot, change: FileChange) -> str:
        if self.read_delay:
            time.sleep(self.read_delay)
        self._check("diff")
        return self.diffs.get((agent.name, change.path), "")

    def events(self) -> list[Event]:
        self._check("events")
        return list(reversed(self.event_log))

    # -- panes ------------------------------------------------------------------------------

    def acknowledged(self) -> dict[str, str]:
        return dict(self.acks)

    def acknowledge(self, agent: str, key: str) -> None:
        self.acks[agent] = key

    def pane_history(self, agent: AgentSnapshot, lines: int) -> str:
        self._check("history")
        return self.histories.get(agent.name, agent.screen)

    def send(self, agent: AgentSnapshot, text: str) -> None:
        self._check("send")
        self.sent.append((agent.name, text))

    def attach_command(self, agent: AgentSnapshot) -> tuple[list[str], dict[str, str]]:
        self._check("attach")
        return ["true", agent.name], client_env()

    # -- steering ---------------------------------------------------------------------------

    def permit(self, action: str, agent: AgentSnapshot | None) -> Permit:
        return permit(action, agent, fleet_open=self.base is not None)

    def stakes(self, name: str) -> Stakes:
        self._check("stakes")
        if name in self.stakes_of:
            return self.stakes_of[name]
        agent = self._agent(name)
        return Stakes(
            agent=name,
            uncommitted=tuple(f.path for f in agent.files),
            commits=tuple((f"{i:07x}", f"commit {i}") for i in range(agent.commits_ahead)),
            phase="running",
            restarts=agent.restarts,
            max_restarts=agent.max_restarts,
            pane_alive=agent.pane_id is not None and agent.status in LIVE,
        )

    def kill(self, name: str) -> Outcome:
        self._check("kill")
        self.steered.append(("kill", name))
        return Outcome(name, "kill", f"killed {name} (worktree, branch and files kept)")

    def restart(
        self, name: str, reason: str, force: bool, last: FleetSnapshot | None, note: str = ""
    ) -> Outcome:
        self._check("restart")
        self.steered.append(("restart", name, reason, str(force)))
        return Outcome(name, "restart", f"restarted {name}: attempt 1")

    def accept_drift(self, name: str, paths: tuple[str, ...]) -> None:
        self._check("accept_drift")
        self.steered.append(("accept_drift", name, *paths))

    def sync(self, name: str) -> str:
        self._check("sync")
        self.steered.append(("sync", name))
        return f"merged base into fleet/{name} in its worktree"

    def preflight(self, name: str, cancel: Callable[[], bool] | None = None) -> Preflight:
        self._check("preflight")
        if name in self.preflights:
            return self.preflights[name]
        checks = (
            Check("uncommitted", True, "no uncommitted work"),
            Check("commits", True, f"1 commit not in {self.base}"),
            Check("conflicts", True, f"merges cleanly into {self.base}"),
        )
        return Preflight(name, self.base or "main", "b" * 40, "a" * 40, checks)

    def merge(self, name: str, commit_message: str | None, remove_worktree: bool) -> MergeResult:
        self._check("merge")
        self.steered.append(("merge", name))
        pre = self.preflight(name)
        if name in self.refuse or not pre.ok:
            refused = Preflight(
                pre.agent, pre.base, pre.base_head, pre.tip, (Check("conflicts", False, "conflicts in a.py"),)
            )
            raise MergeRefused(f"merge of {name} refused, main unchanged: conflicts in a.py", None, refused)
        return MergeResult(name, "c" * 40, pre, None, (), remove_worktree, f"merged fleet/{name} into main")

    def plan_queue(self, snapshot: FleetSnapshot | None) -> QueuePlan:
        self._check("plan_queue")
        if self.queue_plan is not None:
            return self.queue_plan
        items = tuple(
            QueueItem(a.name, "a" * 40, a.commits_ahead, 0, (), True)
            for a in (snapshot or self._latest or FleetSnapshot.model_construct(agents=())).agents
            if a.status == Status.IDLE
        )
        return QueuePlan(self.base or "main", "b" * 40, items, ())

    def run_queue(self, plan: QueuePlan, on_step: Callable[[str], None]) -> QueueResult:
        self._check("run_queue")
        self.steered.append(("queue", *(i.agent for i in plan.items)))
        result = QueueResult()
        for item in plan.items:
            on_step(f"merging {item.agent}")
            result.merged.append(self.merge(item.agent, plan.commit_message, False))
        return result

    def auto_restart(self, snapshot: FleetSnapshot) -> list[str]:
        return []
