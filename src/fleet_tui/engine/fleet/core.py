"""One fleet file opened in its repository, with its adapters: who its agents are, where their
files and panes are, the tmux session and whose it is, whether `.fleet/` can be written, snapshots
of an agent's work, starting a run in a pane, sending text.

No UI here: the CLI, the dashboard and the tests all drive this package.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Self

from fleet_tui.adapters import git
from fleet_tui.adapters.git import WorkSnapshot
from fleet_tui.adapters.tmux import Tmux
from fleet_tui.engine.fleet import programs
from fleet_tui.engine.launcher import write_launcher
from fleet_tui.engine.state import Layout, Phase, load_state, log_event, pinned_base, read_exit
from fleet_tui.errors import ActionRefused, EnvironmentProblem, ExternalCommandFailed, FleetDown, SpecError
from fleet_tui.models import PaneReading
from fleet_tui.scope import Scope
from fleet_tui.spec import FLEET_FILE, Agent, FleetSpec, load_fleet


def session_name(root: Path) -> str:
    digest = hashlib.sha1(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:6]
    return f"{slugify(root.name)[:40]}-{digest}"


def slugify(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")
    return slug[:48] or "fleet"


# Bytes the writability check writes (and removes): enough that a full disk refuses it.
WRITE_PROBE = 64 * 1024


class FleetCore:
    """One fleet file, opened in its repository, with its adapters."""

    def __init__(self, spec: FleetSpec, root: Path, base: str) -> None:
        self.spec = spec
        self.root = root
        self.base = base
        settings = spec.settings
        self.name = settings.name or slugify(root.name)
        worktree_root = (
            (root / settings.worktree_root).resolve()
            if settings.worktree_root
            else root.parent / f"{root.name}-fleet"
        )
        self.layout = Layout(root=root, worktree_root=worktree_root)
        self._common_dir: Path | None = None  # the repository's git dir, read once when needed
        self.unsaved: list[str] = []  # after down(): agents whose snapshot could not be written
        # The session name is unique per repository path: two checkouts both named `app` never
        # share one on the same socket. An explicit [fleet] name is used as it is (ownership is
        # still checked: the session records its repository).
        self.session = settings.name or session_name(root)
        self.tmux = Tmux(settings.socket)
        self.scopes = {a.name: Scope(a.scope) for a in spec.agents}
        # Whose files merge: a reviewer reads everything and changes nothing that is merged.
        self.doer_scopes = {a.name: self.scopes[a.name] for a in spec.doers}

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, cwd: Path | None = None, fleet_file: Path | None = None) -> Self:
        """Find the repository around `cwd`, read its fleet file and check it against the repo."""
        git.require_git()
        root = git.repo_root((cwd or Path.cwd()).resolve())
        path = fleet_file.resolve() if fleet_file else root / FLEET_FILE
        spec = load_fleet(path)
        # The fleet file's base, else the one pinned at the first `up`, else the current branch:
        # a person checking out their own branch later must not move the fleet's base with it.
        base = spec.settings.base or pinned_base(root) or git.current_branch(root)
        if base is None:
            raise SpecError(
                str(path),
                "fleet.base",
                "the repository is on a detached HEAD, so there is no current branch to use",
                'set `base = "main"` (or your branch) under [fleet]',
            )
        worktree_root = cls(spec, root, base).layout.worktree_root
        if worktree_root == Path(worktree_root.anchor):
            raise SpecError(
                str(path),
                "fleet.worktree_root",
                f"{spec.settings.worktree_root!r} is the filesystem root: agents' worktrees need a "
                "folder of their own",
                "choose a folder outside the repository, e.g. the default ../<repo>-fleet",
            )
        blocker = next((p for p in (worktree_root, *worktree_root.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise SpecError(
                str(path),
                "fleet.worktree_root",
                f"{blocker} is a file, so {worktree_root} cannot be a folder of worktrees",
                "move that file, or set worktree_root to a folder; nothing was created",
            )
        if worktree_root == root or root in worktree_root.parents:
            raise SpecError(
                str(path),
                "fleet.worktree_root",
                f"{worktree_root} is inside the repository, where agents' worktrees would show up "
                "as untracked files",
                "choose a folder outside the repository, e.g. the default ../<repo>-fleet",
            )
        if not git.has_commits(root):
            raise EnvironmentProblem(
                f"the repository {root} has no commits yet",
                "commit something first: every agent's branch starts from a commit of the base branch",
            )
        if not git.branch_exists(root, base):
            raise SpecError(
                str(path),
                "fleet.base",
                f"branch {base!r} does not exist in {root}",
                "create it, or set `base` under [fleet] to an existing branch",
            )
        return cls(spec, root, base)

    def missing_programs(self) -> list[str]:
        """Agents whose program is not installed, each as "'name' (preset 'x') needs 'prog'"."""
        return programs.missing_programs(self.spec.agents)

    def check_programs(self) -> None:
        """Every agent's program must be installed: say which are missing, and for whom, at once."""
        missing = self.missing_programs()
        if missing:
            raise EnvironmentProblem(
                "not installed (not on PATH): " + "; ".join(missing),
                "install what is missing, or give those agents another `preset` or `command`",
            )

    def restart_warnings(self) -> list[str]:
        """Agents with their own `command` but no `restart_command`: say what a restart will run."""
        return programs.restart_warnings(self.agents)

    @property
    def agents(self) -> tuple[Agent, ...]:
        return self.spec.agents

    def agent(self, name: str) -> Agent:
        return self.spec.agent(name)

    # -- starting a run, reaching the agent ----------------------------------------------------

    def launch(self, agent: Agent, pane_id: str, run: int, *, restart: bool = False) -> None:
        """Start run `run` of the agent in its existing pane, on a blank screen."""
        launcher = write_launcher(agent, self.layout, run, restart=restart)
        # The scrollback goes first; respawn-pane itself starts the new process on a blank screen.
        self.tmux.clear_history(pane_id)
        self.tmux.respawn(pane_id, self.worktree_or_root(agent.name), ("sh", str(launcher)))

    def worktree_or_root(self, name: str) -> Path:
        """Where the agent's pane runs: its worktree, or the repository once a merge removed it."""
        path = self.layout.worktree(name)
        return path if path.exists() else self.root

    def worktree_problem(self, name: str) -> str | None:
        """Why the agent's folder cannot be read or changed through git now; None when it can."""
        path = self.layout.worktree(name)
        if not path.exists():
            return f"the worktree of {name} ({path}) does not exist: run `fleet-tui up`"
        if self._common_dir is None:
            self._common_dir = git.git_common_dir(self.root)
        return git.worktree_problem(self._common_dir, path)

    def snapshot_work(self, name: str, reason: str, also: tuple[str, ...] = ()) -> WorkSnapshot | None:
        """Save the agent's uncommitted work under refs/fleet/snapshots/<name>/; None when none.

        Refused (ExternalCommandFailed) when the folder is no longer this repository's worktree:
        git would otherwise snapshot an enclosing repository's files into its refs."""
        self.agent(name)
        path = self.layout.worktree(name)
        if not path.exists():
            return None
        problem = self.worktree_problem(name)
        if problem:
            raise ExternalCommandFailed(f"no snapshot of {name}: {problem}")
        snap = git.save_snapshot(path, name, f"fleet-tui snapshot of {name}: {reason}", also=also)
        if snap is not None:
            log_event(self.layout, name, "snapshot", ref=snap.ref, files=len(snap.files), reason=reason)
        return snap

    def send(self, name: str, text: str, *, submit: bool = True) -> None:
        """Paste text verbatim into the agent's pane (then Enter), and log that it was sent.

        Refused for an agent with no live process: nothing would read the text, and tmux 3.3
        crashes (with every agent) when text is pasted into a dead pane.
        """
        self.require_writable()  # the send is logged: refused before anything is pasted
        pane = self.live_pane(name)
        phase = load_state(self.layout).agent(name).phase
        if phase in (Phase.KILLED, Phase.MERGED, Phase.QUEUED, Phase.STOPPED):
            hint = "it starts by itself once its dependencies are merged"
            if phase != Phase.QUEUED:
                hint = f"start it again with `fleet-tui restart {name}`"
            raise ActionRefused(
                f"{name} is {phase.value}: no process to send text to; nothing was sent", hint
            )
        if pane.dead or not self.tmux.paste(pane.pane_id, text, submit=submit):
            code = read_exit(self.layout, name, load_state(self.layout).agent(name).run)
            ended = f" (exit code {code})" if code is not None else ""
            raise ActionRefused(
                f"{name}'s process has ended{ended}: no process to send text to; nothing was sent",
                f"start it again with `fleet-tui restart {name}`",
            )
        log_event(
            self.layout, name, "send", text=text if len(text) <= 500 else text[:500] + "…", enter=submit
        )

    # -- the tmux session --------------------------------------------------------------------

    def foreign_owner(self) -> str | None:
        """The repository another fleet's session of our name belongs to; None when it is ours or absent."""
        if not self.tmux.session_exists(self.session):
            return None
        owner = self.tmux.session_owner(self.session)
        if owner is not None and Path(owner[0]) == self.root:
            return None
        if owner is None:
            return "no fleet-tui fleet (it records no repository)"
        return f"{owner[0]} (fleet file {owner[1]})" if owner[1] else owner[0]

    def require_writable(self) -> None:
        """Refuse before acting when `.fleet/` cannot be written (a read-only mount, wrong owner,
        a full disk): every action records its state and events there, and one that acted first
        and failed to record would be half done (a commit made, text pasted, a session killed)."""
        state_dir = self.layout.state_dir
        # Not made here when missing (a refused command makes nothing): its parent must then
        # take the probe, as it will have to take the folder.
        folder = state_dir if state_dir.is_dir() else state_dir.parent
        try:
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".fleet-write-probe.")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(b"\0" * WRITE_PROBE)  # a full disk refuses this, not just a 0-byte file
                    fh.flush()
                    os.fsync(fh.fileno())
            finally:
                Path(probe).unlink(missing_ok=True)
            for existing in (self.layout.state_file, self.layout.events_file):
                if existing.exists():
                    os.close(os.open(existing, os.O_WRONLY | os.O_APPEND))
        except OSError as exc:
            where = exc.filename or state_dir
            raise EnvironmentProblem(
                f"cannot write fleet-tui's state in {state_dir} ({exc.strerror or exc} at {where}): "
                "nothing was done",
                "make that folder writable (or free some disk space), then try again; "
                "`fleet-tui down --force` stops the agents anyway",
            ) from None

    def require_own_session(self) -> None:
        """Refuse to act on a tmux session of our name that belongs to another repository."""
        other = self.foreign_owner()
        if other is not None:
            raise EnvironmentProblem(
                f"the tmux session {self.session!r} on socket {self.tmux.socket!r} belongs to {other}, "
                f"not to {self.root}; nothing was changed",
                f"give this fleet another `name` (or `socket`) under [fleet] in {self.spec.path}",
            )

    def panes(self) -> list[PaneReading]:
        """The panes of this fleet's session (empty when it is down); refuses another repository's."""
        self.require_own_session()
        return self.tmux.list_panes(self.session)

    def pane(self, name: str) -> PaneReading | None:
        self.agent(name)  # unknown names get a clear error
        return next((p for p in self.panes() if p.agent == name), None)

    def pane_id(self, name: str) -> str | None:
        pane = self.pane(name)
        return pane.pane_id if pane is not None else None

    def live_pane(self, name: str) -> PaneReading:
        """The agent's pane; FleetDown (one message for every action) when there is none."""
        pane = self.pane(name)
        if pane is None:
            raise FleetDown(name)
        return pane


def off_branch_words(name: str, path: Path, on: str | None, branch: str) -> str:
    """What to do about an agent whose worktree is not on its branch: only the branch is merged."""
    where = f"on {on}" if on else "on a detached HEAD"
    return (
        f"{name}: its worktree {path} is {where}, not on {branch}: fleet-tui merges only {branch}, so "
        f"work there is not merged; `git -C {path} switch {branch}` (merge the other branch into it "
        "first if it holds work)"
    )
