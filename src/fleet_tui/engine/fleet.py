"""The fleet: open a fleet file in its repository, plan it, bring it up, take it down.

No UI here: the CLI, the dashboard and the tests all drive this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from fleet_tui.adapters import git, processes
from fleet_tui.adapters.git import WorkSnapshot
from fleet_tui.adapters.tmux import Tmux, require_tmux
from fleet_tui.budget import Budget, estimate
from fleet_tui.engine.launcher import (
    AGENT_MARKER,
    agent_id,
    agent_path,
    write_launcher,
)
from fleet_tui.engine.state import (
    AgentState,
    FleetState,
    Layout,
    Phase,
    load_state,
    log_event,
    pinned_base,
    read_exit,
    save_state,
    state_lock,
    up_lock,
    update_state,
)
from fleet_tui.errors import ActionRefused, EnvironmentProblem, ExternalCommandFailed, FleetDown, SpecError
from fleet_tui.models import OverlapEntry, PaneReading
from fleet_tui.scope import Scope, predicted_overlaps, unmatched_patterns
from fleet_tui.spec import FLEET_FILE, Agent, FleetSpec, load_fleet

# Words a command line may start with that are not programs to look for.
EXIT_KEY_PAUSE = 0.15  # seconds after a control key among the exit keys (see _send_exit_keys)
SHELL_WORDS = frozenset(
    [
        "cat",
        "cd",
        "echo",
        "env",
        "exec",
        "exit",
        "export",
        "if",
        "for",
        "while",
        "case",
        "printf",
        "read",
        "set",
        "test",
        "true",
        "false",
        "time",
        "command",
        "builtin",
        "eval",
        "source",
        ".",
        "[",
        "{",
    ]
)


def command_program(template: str) -> str | None:
    """The program a command template starts with, when it is a plain word we can look up."""
    try:
        words = shlex.split(template)
    except ValueError:
        return None
    if not words or any(c in words[0] for c in "$`=(){};|&<>"):
        return None
    first = words[0]
    return None if first in SHELL_WORDS else first


def session_name(root: Path) -> str:
    digest = hashlib.sha1(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:6]
    return f"{slugify(root.name)[:40]}-{digest}"


def slugify(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")
    return slug[:48] or "fleet"


@dataclass(frozen=True)
class PlanRow:
    agent: str
    branch: str
    worktree: Path
    scope: tuple[str, ...]
    depends_on: tuple[str, ...]
    preset: str


@dataclass(frozen=True)
class Plan:
    rows: tuple[PlanRow, ...]
    overlaps: tuple[OverlapEntry, ...]
    order: tuple[str, ...]
    warnings: tuple[str, ...]
    unrelated_overlaps: tuple[OverlapEntry, ...]  # between agents that do not depend on each other
    budgets: tuple[Budget, ...] = ()  # each agent's start against its context window

    @property
    def over_budget(self) -> tuple[Budget, ...]:
        return tuple(b for b in self.budgets if b.over)


# Bytes the writability check writes (and removes): enough that a full disk refuses it.
WRITE_PROBE = 64 * 1024


class Fleet:
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
    def open(cls, cwd: Path | None = None, fleet_file: Path | None = None) -> Fleet:
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
        path = agent_path()
        missing = []
        for agent in self.spec.agents:
            needs = {agent.preset.program: f"preset {agent.preset_name!r}"}
            needs.setdefault(command_program(agent.preset.command), "its command")
            for program, where in needs.items():
                if program and shutil.which(program, path=path) is None:
                    missing.append(f"{agent.name!r} ({where}) needs {program!r}")
        return missing

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
        found = []
        for agent in self.agents:
            if not agent.restart_defaulted:
                continue
            if "{handoff_file}" in (agent.preset.restart_command or ""):
                how = "runs the same command with the handoff as its prompt file"
            else:
                how = "runs the same command again, without the handoff (the command has no {prompt_file})"
            found.append(f"{agent.name}: a custom `command` and no `restart_command`: a restart {how}")
        return found

    @property
    def agents(self) -> tuple[Agent, ...]:
        return self.spec.agents

    def agent(self, name: str) -> Agent:
        return self.spec.agent(name)

    # -- plan ------------------------------------------------------------------------------

    def plan(self) -> Plan:
        sizes = git.tracked_sizes(self.root, self.base)
        files = list(sizes)
        overlaps = predicted_overlaps(self.doer_scopes, files)
        budgets = tuple(
            estimate(
                a.name,
                a.task,
                {path: size for path, size in sizes.items() if path in self.scopes[a.name]},
                a.preset.context_window,
            )
            for a in self.agents
        )
        order = self.spec.launch_order()
        below = _ancestors(order, {a.name: a.depends_on for a in self.agents})
        rank = {name: i for i, name in enumerate(order)}
        unrelated = tuple(e for e in overlaps if not _one_chain(e.agents, rank, below))
        warnings = (
            *(
                f"{a.name}: scope pattern {p!r} matches no tracked file in {self.base}"
                for a in self.agents
                for p in unmatched_patterns(a.scope, files)
            ),
            *self.restart_warnings(),
            *(
                f"not installed (not on PATH): {m}; `fleet-tui up` will refuse until it is"
                for m in self.missing_programs()
            ),
            *(warning for b in budgets if (warning := b.warning())),
        )
        rows = tuple(
            PlanRow(
                agent=a.name,
                branch=a.branch,
                worktree=self.layout.worktree(a.name),
                scope=a.scope,
                depends_on=a.depends_on,
                preset=a.preset_name,
            )
            for a in self.agents
        )
        return Plan(rows, overlaps, tuple(self.spec.launch_order()), warnings, unrelated, budgets)

    # -- starting a run ------------------------------------------------------------------------

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

    # -- stopping and saving work ------------------------------------------------------------

    def stop_agent(self, name: str, pane: PaneReading | None, grace: float = 3.0) -> Stopped:
        """Polite exit keys, then SIGTERM, then SIGKILL, for every process of the agent: its pane's
        whole tree, and any process marked as this agent's that left it (setsid, a lost session).

        Returns (processes that ended on SIGTERM, processes that needed SIGKILL).
        """
        terminated = killed = 0
        leader = pane.pid if pane is not None else None
        if pane is not None and leader is not None:
            keys = self.agent(name).preset.exit_keys
            if not pane.dead and keys:
                with contextlib.suppress(ExternalCommandFailed):  # the pane died meanwhile
                    self._send_exit_keys(pane.pane_id, keys)
                deadline = time.monotonic() + grace
                while time.monotonic() < deadline:
                    if not processes.alive({leader}) or not (processes.tree(leader) - {leader}):
                        break
                    time.sleep(0.1)
            result = processes.stop_tree(leader, grace)
            terminated, killed = len(result.terminated), len(result.killed)
            # The leader is the launcher: it records the exit code and ends. A leader that stays
            # (a placeholder, or a launcher that hangs) is ended too.
            deadline = time.monotonic() + 2.0
            while not pane.dead and processes.alive({leader}) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not pane.dead and processes.alive({leader}):
                last = processes.stop_tree(leader, grace, spare_leader=False)
                terminated += len(last.terminated)
                killed += len(last.killed)
        strays = processes.with_env(AGENT_MARKER, agent_id(self.layout, name)) - {leader or -1}
        rest = processes.stop_pids(strays, grace)
        return Stopped(terminated + len(rest.terminated), killed + len(rest.killed))

    def _send_exit_keys(self, pane_id: str, keys: tuple[str, ...]) -> None:
        """Send exit keys in groups, pausing after each control key: a Ctrl-C makes the terminal
        flush its pending input, so keys sent right behind it are lost ("xit: command not found")."""
        group: list[str] = []
        for key in keys:
            group.append(key)
            if key.startswith(("C-", "M-")):
                self.tmux.send_keys(pane_id, *group)
                group = []
                time.sleep(EXIT_KEY_PAUSE)
        if group:
            self.tmux.send_keys(pane_id, *group)

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

    def unmet_dependencies(self, agent: Agent, state: FleetState | None = None) -> list[str]:
        state = state or load_state(self.layout)
        return [d for d in agent.depends_on if not self.is_merged(d, state)]

    def is_merged(self, name: str, state: FleetState) -> bool:
        """Merged by fleet-tui, or by hand: its branch moved and base now contains it."""
        record = state.agents.get(name)
        if record and record.phase == Phase.MERGED:
            return True
        branch = self.agent(name).branch
        if not git.branch_exists(self.root, branch):
            return False
        tip = git.rev_parse(self.root, branch)
        start = record.branch_start if record else None
        return tip != start and git.is_ancestor(self.root, tip, self.base)

    def active_doers(self, state: FleetState) -> list[str]:
        """Doers holding a slot: started and not yet merged, killed or handed to a person."""
        return [
            a.name
            for a in self.spec.doers
            if state.agent(a.name).phase == Phase.RUNNING and not state.agent(a.name).needs_human
        ]

    def queued_reason(self, agent: Agent, state: FleetState) -> str | None:
        """Why an agent whose dependencies are met still waits, or None when it may start."""
        if agent.is_reviewer:
            return f"reviewer of {agent.reviews}: starts when {agent.reviews}'s gates pass"
        limit = self.spec.settings.max_agents
        if limit is not None and len(self.active_doers(state)) >= limit:
            return f"waiting for a free slot (max_agents = {limit})"
        return None

    def start_ready(self) -> list[str]:
        """Start queued agents whose dependencies are now merged, as slots allow (max_agents), in
        file order; reviewers are started by the pipeline, not here. Returns what it did."""
        with state_lock(self.layout):
            return self._start_ready()

    def _start_ready(self) -> list[str]:
        state = load_state(self.layout)
        panes = {p.agent: p.pane_id for p in self.panes()}
        done: list[str] = []
        for agent in self.agents:
            record = state.agent(agent.name)
            if record.phase != Phase.QUEUED or agent.name not in panes:
                continue
            if self.unmet_dependencies(agent, state) or self.queued_reason(agent, state):
                continue
            caught_up = self._catch_up(agent, record)
            begin_run(record)
            self.launch(agent, panes[agent.name], record.run)
            why = "its dependencies are merged" if agent.depends_on else "a slot is free"
            log_event(self.layout, agent.name, "started", run=record.run, reason=why, caught_up=caught_up)
            done.append(f"started {agent.name}: {why}")
        if done:
            save_state(self.layout, state)
        return done

    def _catch_up(self, agent: Agent, record: AgentState) -> str | None:
        """A queued agent's untouched branch moves up to base's tip before it starts, so it builds on
        what was merged meanwhile (its dependencies above all). Only a fast-forward of a branch with
        no commits of its own and a clean worktree: nothing can be lost. Returns the new start."""
        path = self.layout.worktree(agent.name)
        start = record.branch_start
        if not start or not path.exists() or git.rev_parse(path, "HEAD") != start or not git.is_clean(path):
            return None
        base_head = git.rev_parse(self.root, self.base)
        if base_head == start or not git.is_ancestor(self.root, start, base_head):
            return None
        git.fast_forward(path, base_head)
        record.branch_start = base_head
        return base_head

    def down(self, grace: float = 3.0, *, force: bool = False) -> bool:
        """Stop every agent (work snapshotted first) and the fleet's tmux session; worktrees,
        branches and state stay. Nothing of the agents keeps running headless.

        A snapshot that cannot be written (a full disk, a folder that is no worktree any more)
        does not keep its agent running: `unsaved` names them afterwards. `force`: go on even
        when `.fleet/` cannot be written (no lock, no event), the way out of a full disk."""
        require_tmux()
        self.require_own_session()
        self.unsaved = []
        if force:
            try:
                with up_lock(self.layout):
                    return self._down(grace, force=True)
            except OSError:
                return self._down(grace, force=True)
        with up_lock(self.layout):
            return self._down(grace)

    def _down(self, grace: float, *, force: bool = False) -> bool:
        panes = {p.agent: p for p in self.tmux.list_panes(self.session)}
        state = load_state(self.layout)
        for agent in self.agents:
            if agent.name in panes or processes.with_env(AGENT_MARKER, agent_id(self.layout, agent.name)):
                try:
                    self.snapshot_work(agent.name, "before down")
                except (ExternalCommandFailed, OSError) as exc:
                    reason = exc.message if isinstance(exc, ExternalCommandFailed) else str(exc)
                    self.unsaved.append(f"{agent.name}: {reason}")
                pane = panes.get(agent.name)
                record = state.agent(agent.name)
                # A working agent is stopped, not ended: the next `up` starts it again (resumed).
                working = (
                    pane is not None
                    and not pane.dead
                    and record.phase == Phase.RUNNING
                    and read_exit(self.layout, agent.name, record.run) is None
                )
                self.stop_agent(agent.name, pane, grace)
                if working:
                    try:
                        with update_state(self.layout) as fresh:
                            fresh.agent(agent.name).phase = Phase.STOPPED
                        log_event(self.layout, agent.name, "stopped", run=record.run, by="down")
                    except OSError:
                        if not force:  # forced: stopping matters more than recording it
                            raise
        stopped = self.tmux.kill_session(self.session)
        if stopped:
            try:
                log_event(self.layout, None, "down", unsaved=self.unsaved)
            except OSError:
                if not force:
                    raise
        return stopped

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


class Stopped(NamedTuple):
    """How many of an agent's processes ended on SIGTERM, and how many needed SIGKILL."""

    terminated: int
    killed: int


def begin_run(record: AgentState) -> None:
    """A new run of an agent starts now: the one place a run's number, phase and start are set."""
    record.run += 1
    record.phase = Phase.RUNNING
    record.started_at = time.time()


def off_branch_words(name: str, path: Path, on: str | None, branch: str) -> str:
    """What to do about an agent whose worktree is not on its branch: only the branch is merged."""
    where = f"on {on}" if on else "on a detached HEAD"
    return (
        f"{name}: its worktree {path} is {where}, not on {branch}: fleet-tui merges only {branch}, so "
        f"work there is not merged; `git -C {path} switch {branch}` (merge the other branch into it "
        "first if it holds work)"
    )


def dependency_relation(spec: FleetSpec) -> Callable[[str, str], bool]:
    """Does one agent (transitively) depend on the other? One bitset pass, then each question is
    one shift: asking it for every pair of a thousand agents stays cheap."""
    order = spec.launch_order()
    below = _ancestors(order, {a.name: a.depends_on for a in spec.agents})
    rank = {name: i for i, name in enumerate(order)}
    return lambda a, b: bool(below[a] >> rank[b] & 1 or below[b] >> rank[a] & 1)


def _ancestors(order: list[str], deps: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Every agent's transitive dependencies as a bitset over `order` (a topological order):
    one pass, so asking whether two agents depend on each other is one AND."""
    bit = {name: 1 << i for i, name in enumerate(order)}
    below: dict[str, int] = {}
    for name in order:
        mask = 0
        for dep in deps.get(name, ()):
            mask |= bit[dep] | below.get(dep, 0)
        below[name] = mask
    return below


def _one_chain(agents: tuple[str, ...], rank: dict[str, int], below: dict[str, int]) -> bool:
    """True when every pair of `agents` depends on each other one way or the other. Sorted in launch
    order that holds exactly when each depends on the one before it (dependency is transitive), so
    an overlap of k agents costs k checks, not k*k searches of the graph."""
    ordered = sorted(agents, key=rank.__getitem__)
    return all(below[b] >> rank[a] & 1 for a, b in itertools.pairwise(ordered))
