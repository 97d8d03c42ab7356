"""Adding an agent to a fleet and taking one out: the fleet file, its worktree, its pane.

Both edit `fleet.toml` in place (comments and layout kept, see `fleetfile`), and both check the
edited file exactly as the fleet file is checked before anything is written, so a bad name, an
unknown preset or a broken scope pattern changes nothing. Removing snapshots the agent's work
first and keeps its branch unless asked to delete it, and keeps its worktree while it holds
gitignored files (no snapshot holds those).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleet_tui.adapters import git
from fleet_tui.adapters.git import WorkSnapshot
from fleet_tui.adapters.tmux import require_tmux
from fleet_tui.engine.actions.bringup import UpReport, up
from fleet_tui.engine.actions.merge import IGNORED_SHOWN
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import log_event, update_state, write_atomic
from fleet_tui.engine.text import listed
from fleet_tui.errors import ActionRefused, ExternalCommandFailed, FleetError
from fleet_tui.fleetfile import add_agent_text, remove_agent_text
from fleet_tui.spec import parse_fleet


@dataclass(frozen=True)
class RosterChange:
    fleet: Fleet  # the fleet as it is now (re-read from the edited file)
    agent: str
    message: str
    details: tuple[str, ...] = ()


def _read(fleet: Fleet) -> str:
    try:
        return fleet.spec.path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FleetError(f"cannot read {fleet.spec.path}: {exc.strerror}") from None


def _checked(fleet: Fleet, text: str) -> Fleet:
    """The fleet `text` would make, validated like the fleet file itself (SpecError if not)."""
    path = fleet.spec.path
    spec = parse_fleet(text, str(path), path.parent).model_copy(update={"path": path})
    return Fleet(spec, fleet.root, fleet.base)


def check_new_agent(fleet: Fleet, fields: dict[str, Any]) -> Fleet:
    """Validate an agent to add without changing anything: the fleet it would make, or a
    SpecError/FleetError naming the field that is wrong."""
    name = str(fields.get("name") or "").strip()
    if not name:
        raise FleetError("the new agent needs a name", "letters, digits, - and _ (it becomes fleet/<name>)")
    text = add_agent_text(_read(fleet), fields, str(fleet.spec.path))
    new = _checked(fleet, text)
    missing = [m for m in new.missing_programs() if m.startswith(f"{name!r} ")]
    if missing:
        raise FleetError(
            "not installed (not on PATH): " + "; ".join(missing),
            "install it, or choose another preset or command; nothing was changed",
        )
    return new


def add_agent(fleet: Fleet, fields: dict[str, Any], *, start: bool = True) -> RosterChange:
    """Write a new `[[agent]]` into the fleet file and (with `start`) bring it up like `up` does."""
    new = check_new_agent(fleet, fields)
    name = str(fields["name"]).strip()
    if start:
        require_tmux()
        fleet.require_writable()  # nothing is written into the fleet file when it could not start
    write_atomic(fleet.spec.path, add_agent_text(_read(fleet), fields, str(fleet.spec.path)))
    report = up(new) if start else UpReport()
    if new.layout.state_file.exists():  # a fleet never brought up has no log to start here
        log_event(new.layout, name, "added", file=str(fleet.spec.path))
    where = f"added {name} to {fleet.spec.path.name}"
    return RosterChange(new, name, where + ("; " + "; ".join(report.changes) if report.changes else ""))


def dependants(fleet: Fleet, name: str) -> list[str]:
    return [a.name for a in fleet.agents if name in a.depends_on]


def check_removal(fleet: Fleet, name: str, *, delete_branch: bool = False, force: bool = False) -> None:
    """Everything that would refuse a removal, before anything is touched."""
    agent = fleet.agent(name)  # unknown: UnknownAgent lists the agents
    others = dependants(fleet, name)
    if others:
        raise ActionRefused(
            f"{', '.join(others)} {'depends' if len(others) == 1 else 'depend'} on {name}: nothing removed",
            f"remove {name} from their depends_on first (or remove them first)",
        )
    if len(fleet.agents) == 1:
        raise ActionRefused(
            f"{name} is the fleet's only agent: nothing removed",
            "a fleet file needs at least one agent; `fleet-tui down` stops the fleet",
        )
    if delete_branch and git.branch_exists(fleet.root, agent.branch) and not force:
        tip = git.rev_parse(fleet.root, agent.branch)
        if not git.is_ancestor(fleet.root, tip, fleet.base):
            raise ActionRefused(
                f"{agent.branch} is not merged into {fleet.base}: nothing removed",
                "merge it first, keep the branch (leave out --delete-branch), or pass --force to "
                "delete it anyway",
            )
    # The edited file must still be a valid fleet (raises SpecError otherwise).
    _checked(fleet, remove_agent_text(_read(fleet), name, str(fleet.spec.path)))


def _remove_worktree(fleet: Fleet, name: str, path: Path, snap: WorkSnapshot | None) -> str:
    """Remove the stopped agent's worktree, unless it holds gitignored files: those are in no
    commit and no snapshot, and removing it would delete them (`.env`, `build/`). Then it is kept
    and they are named, as after `merge --remove-worktree`. What was done, in words."""
    ignored = git.ignored_files(path)
    if ignored:
        log_event(fleet.layout, name, "worktree-kept", path=str(path), ignored=ignored[:50])
        saved = f" (its uncommitted work is in {snap.ref})" if snap is not None else ""
        return (
            f"kept its worktree {path}: it holds gitignored files that are in no commit or snapshot "
            f"({listed(ignored, IGNORED_SHOWN)}); move or delete them, then "
            f"`git worktree remove --force {path}`{saved}"
        )
    git.remove_worktree(fleet.root, path, force=True)  # its changes are in the snapshot
    return f"removed its worktree {path}"


def remove_agent(
    fleet: Fleet, name: str, *, delete_branch: bool = False, force: bool = False, grace: float = 3.0
) -> RosterChange:
    """Snapshot, stop the agent, close its pane, remove its worktree (kept when it holds gitignored
    files, which are named), take it out of the fleet file; its branch stays unless `delete_branch`
    (refused when not merged into base, unless `force`)."""
    check_removal(fleet, name, delete_branch=delete_branch, force=force)
    fleet.require_writable()
    agent = fleet.agent(name)
    done: list[str] = []
    snap = fleet.snapshot_work(name, "before removing the agent")
    if snap is not None:
        done.append(
            f"saved {len(snap.files)} uncommitted file{'' if len(snap.files) == 1 else 's'} as {snap.ref}"
        )
    pane = next((p for p in fleet.tmux.list_panes(fleet.session) if p.agent == name), None)
    fleet.stop_agent(name, pane, grace)
    if pane is not None:
        with contextlib.suppress(ExternalCommandFailed):  # it closed by itself meanwhile
            fleet.tmux.kill_pane(pane.pane_id)
        done.append("stopped it and closed its pane")
    path = fleet.layout.worktree(name)
    if path in git.worktrees(fleet.root):
        done.append(_remove_worktree(fleet, name, path, snap))
    write_atomic(fleet.spec.path, remove_agent_text(_read(fleet), name, str(fleet.spec.path)))
    done.append(f"took it out of {fleet.spec.path.name}")
    with update_state(fleet.layout) as state:
        state.agents.pop(name, None)  # a later agent of the same name starts afresh
    if delete_branch and git.branch_exists(fleet.root, agent.branch):
        git.delete_branch(fleet.root, agent.branch)
        done.append(f"deleted branch {agent.branch}")
    elif git.branch_exists(fleet.root, agent.branch):
        done.append(f"kept branch {agent.branch}")
    log_event(fleet.layout, name, "removed", snapshot=snap and snap.ref, branch_deleted=delete_branch)
    new = Fleet.open(fleet.root, fleet.spec.path)
    return RosterChange(new, name, f"removed {name}: " + "; ".join(done), tuple(done))
