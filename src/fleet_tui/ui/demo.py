"""A fleet snapshot made in memory: four agents in typical states, for tests and the snapshot SVGs."""

from __future__ import annotations

from fleet_tui.models import AgentSnapshot, FileChange, FleetSnapshot, OverlapEntry, Status
from fleet_tui.ui.source import StaticSource

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
