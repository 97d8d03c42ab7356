"""The agents' work: snapshots of uncommitted changes, and bringing a snapshot back."""

from __future__ import annotations

from fleet_tui.adapters import git
from fleet_tui.adapters.git import WorkSnapshot
from fleet_tui.engine.actions.common import require_worktree
from fleet_tui.engine.actions.results import Outcome
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import log_event
from fleet_tui.engine.text import files, listed
from fleet_tui.errors import ActionRefused

RESTORE_CONFLICTS_SHOWN = 10


def snapshot_words(snap: WorkSnapshot | None) -> str:
    if snap is None:
        return "nothing uncommitted to snapshot"
    return f"uncommitted work ({files(len(snap.files))}) saved as snapshot {snap.name}"


def snapshots(fleet: Fleet, name: str) -> list[WorkSnapshot]:
    """The agent's snapshots, newest first."""
    fleet.agent(name)
    return git.list_snapshots(fleet.root, name)


def restore(fleet: Fleet, name: str, snapshot: str, *, force: bool = False) -> Outcome:
    """Bring a snapshot's files back into the worktree.

    Refuses, changing nothing, when that would overwrite uncommitted changes that differ from the
    snapshot's version; with `force` the current state is snapshotted first and then overwritten.
    """
    path = require_worktree(fleet, name)
    fleet.require_writable()
    snap = git.find_snapshot(fleet.root, name, snapshot)
    if snap is None:
        raise ActionRefused(
            f"{name} has no snapshot {snapshot!r}",
            f"list them with `fleet-tui restore {name}`",
        )
    conflicts = git.restore_conflicts(path, snap)
    saved: WorkSnapshot | None = None
    if conflicts:
        if not force:
            log_event(fleet.layout, name, "restore-refused", snapshot=snap.name, files=conflicts)
            raise ActionRefused(
                f"restoring {snap.name} would overwrite uncommitted changes newer than the snapshot "
                f"in {listed(conflicts, RESTORE_CONFLICTS_SHOWN)}; nothing was changed",
                "commit or move those changes, or pass --force (it snapshots the current state first)",
            )
        saved = fleet.snapshot_work(name, f"before restoring {snap.name}", also=tuple(conflicts))
    changed = git.restore_files(path, snap)
    log_event(
        fleet.layout, name, "restore", snapshot=snap.name, files=changed, saved_first=saved and saved.ref
    )
    if not changed:
        return Outcome(name, "restore", f"{name}: the worktree already matches {snap.name}", changed=False)
    extra = f" (the state before was saved as {saved.name})" if saved else ""
    return Outcome(
        name,
        "restore",
        f"{name}: restored {files(len(changed))} from {snap.name}{extra}",
        snapshot=saved,
        details=tuple(changed),
    )
