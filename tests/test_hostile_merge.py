"""A failed merge leaves the main checkout exactly as it was (HEAD, index, files, merge state), or says
plainly that it could not and what to run. Real git; disk-full cases on a small tmpfs."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_FILES, git, write_files
from helpers import FLEET_TUI, fleet_cli, until, wait_for
from textual.widgets import Button

from fleet_tui.adapters import git as gitad
from fleet_tui.engine import actions, pipeline, roster
from fleet_tui.engine.state import load_state
from fleet_tui.errors import EnvironmentProblem, ExternalCommandFailed
from fleet_tui.models import Status
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.screens import SendScreen
from fleet_tui.ui.source import LiveSource
from fleet_tui.ui.steer_screens import KillScreen, MergeScreen, RestartScreen


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def parents(root: Path, ref: str = "HEAD") -> list[str]:
    return git(root, "rev-list", "--parents", "-n", "1", ref).split()[1:]


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 12 MiB tmpfs of the test's own, so it can be filled up without touching anything else."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path, leave: int) -> Path:
    """Fill the filesystem of `folder` until only about `leave` bytes are free."""
    filler = folder / f"filler-{uuid.uuid4().hex[:6]}"
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with filler.open("wb") as fh, contextlib.suppress(OSError):  # full already
        fh.write(b"\1" * max(0, free - leave))
    return filler


def branch_with(root: Path, files: dict[str, str | bytes]) -> str:
    git(root, "checkout", "-q", "-b", "other")
    write_files(root, files)
    commit(root, "other work")
    tip = git(root, "rev-parse", "HEAD").strip()
    git(root, "checkout", "-q", "main")
    return tip


def test_a_held_index_lock_leaves_no_merge_state_behind(repo: Path) -> None:
    tip = branch_with(repo, {"src/new.py": "NEW = 1\n", "src/app.py": "def main():\n    return 2\n"})
    (repo / "untracked.txt").write_text("mine\n")
    before = gitad.checkout_state(repo)
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    merged, why = gitad.merge_no_ff(repo, tip, "Merge other")
    assert not merged and "index" in why
    lock.unlink()
    assert gitad.checkout_state(repo) == before
    for name in ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE"):
        assert not (repo / ".git" / name).exists(), name
    # The person's next ordinary commit is an ordinary commit, not a merge that drops the work.
    (repo / "README.md").write_text("# changed\n")
    commit(repo, "mine")
    assert len(parents(repo)) == 1
    assert not gitad.is_ancestor(repo, tip, "main")


def test_disk_full_during_a_merge_is_undone_or_said(small_fs: Path) -> None:
    root = small_fs / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_files(root, dict(REPO_FILES))
    commit(root, "initial")
    # 6 MB that compress to almost nothing (not zeros: git writes runs of those sparse), so the
    # object fits and the checked-out file does not; and 50 small files written before it.
    many: dict[str, str | bytes] = {f"docs/many/f{i:02}.txt": f"{i}\n" for i in range(50)}
    tip = branch_with(root, {**many, "src/zz_big.bin": b"fleet" * 1_200_000, "src/app.py": "X = 2\n"})
    before = gitad.checkout_state(root)
    filler = fill(small_fs, leave=1_000_000)
    try:
        try:
            merged, why = gitad.merge_no_ff(root, tip, "Merge other")
        except ExternalCommandFailed as exc:
            # Said plainly: what differs and what to run.
            assert "could not be put back" in exc.message and exc.hint and "merge --abort" in exc.hint
            return
        assert not merged, "the merge cannot fit on the disk"
        assert "space" in why.lower() or "write" in why.lower(), why
        after = gitad.checkout_state(root)
        assert after == before, before.differences(after)
        assert not (root / "src" / "zz_big.bin").exists()
        assert not (root / "docs" / "many").exists()
    finally:
        filler.unlink()


# -- a read-only .fleet/ and a full disk: refused before anything is done ---------------------------


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """Make a folder read-only for everyone, root included: a read-only bind mount over itself."""
    mounted: list[Path] = []

    def make(folder: Path) -> None:
        done = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot bind-mount {folder} read-only (needs root): {done.stderr.strip()}")
        mounted.append(folder)
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)

    yield make
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_read_only_fleet_folder_is_refused_before_anything_is_done(
    make_fleet: Any, repo: Path, read_only: Callable[[Path], None]
) -> None:
    fleet = make_fleet([{"name": "alpha", "script": 'write src/a.py "work\\n"\nsay ready\nidle\n'}])
    actions.up(fleet)
    wait_for(lambda: (fleet.layout.worktree("alpha") / "src" / "a.py").exists(), what="alpha's file")
    pane = fleet.pane_id("alpha")
    screen = lambda: subprocess.run(  # noqa: E731
        ["tmux", "-L", fleet.tmux.socket, "capture-pane", "-p", "-t", str(pane)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    wait_for(lambda: "ready" in screen(), what="ready")
    head, tip = git(repo, "rev-parse", "main"), git(repo, "rev-parse", "fleet/alpha")
    read_only(fleet.layout.state_dir)
    for args in (
        ("send", "alpha", "hello-while-read-only"),
        ("merge", "alpha", "-m", "commit it", "--yes"),
        ("kill", "alpha", "--yes"),
        ("restart", "alpha", "--yes"),
        ("snapshot", "alpha"),
        ("down",),
        ("up", "--no-ui"),
    ):
        result = fleet_cli(fleet, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and "cannot write" in result.stderr, (args, result.stderr)
        assert "nothing was done" in result.stderr
    # nothing half done: no commit, no paste, the session and the agent still there
    assert git(repo, "rev-parse", "main") == head and git(repo, "rev-parse", "fleet/alpha") == tip
    assert "hello-while-read-only" not in screen()
    assert fleet.tmux.session_exists(fleet.session)
    panes = fleet.tmux.list_panes(fleet.session)
    assert [p.dead for p in panes] == [False]
    assert "fleet-tui snapshot" not in git(repo, "for-each-ref", "refs/fleet/snapshots")


def test_disk_full_at_up_is_one_message_and_nothing_made(small_fs: Path, server: Any) -> None:
    root = small_fs / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_files(root, dict(REPO_FILES))
    commit(root, "initial")
    (root / "fleet.toml").write_text(
        f'[fleet]\nsocket = "{server.socket_name}"\n'
        '[[agent]]\nname = "alpha"\ntask = "t"\nscope = ["src/**"]\ncommand = "sleep 30"\n'
    )
    git(root, "add", "fleet.toml")
    commit(root, "fleet")
    filler = fill(small_fs, leave=8 * 1024)
    try:
        result = subprocess.run(
            [FLEET_TUI, "-C", str(root), "up", "--no-ui"], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2, (result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and "No space left" in result.stderr, result.stderr
        assert git(root, "branch", "--list", "fleet/*").strip() == ""
        assert not server.has_session("repo")
    finally:
        filler.unlink()


# -- the dashboard's actions on a read-only .fleet/: one notice each, nothing half done -------------


def notices(app: FleetApp) -> list[str]:
    """The error notices shown so far (progress notes, e.g. "merging…", are not counted)."""
    return [str(n.message) for n in app._notifications if n.severity == "error"]


async def test_the_dashboards_actions_on_a_read_only_fleet_folder_do_nothing_and_say_so(
    make_fleet: Any, repo: Path, read_only: Callable[[Path], None]
) -> None:
    fleet = make_fleet(
        [
            {"name": "alpha", "script": 'write src/a.py "a\\n"\nsay ready\nidle\n'},  # idle, uncommitted work
            {"name": "beta", "script": 'write src/b.py "b\\n"\ncommit "b"\nidle\n'},  # gates pass: ready
        ]
    )
    actions.up(fleet)
    async with FleetApp(LiveSource(fleet, interval=0.3)).run_test(size=(150, 45)) as pilot:
        app: FleetApp = pilot.app  # type: ignore[assignment]

        def status(name: str) -> Status | None:
            agent = app.snapshot.agent(name) if app.snapshot else None
            return agent.status if agent else None

        await until(pilot, lambda: status("beta") == Status.READY, what="beta ready to merge")
        await until(pilot, lambda: status("alpha") == Status.IDLE, what="alpha idle")
        pane = fleet.pane("alpha")
        assert pane is not None and pane.pid is not None
        head, tip = git(repo, "rev-parse", "main"), git(repo, "rev-parse", "fleet/beta")
        read_only(fleet.layout.state_dir)
        app.select_agent("alpha")
        await pilot.pause()

        async def refused(*steps: str | type) -> None:
            """Press the keys (a screen class: wait for that screen first); exactly one new notice
            follows, and it says why nothing was done."""
            before = len(notices(app))
            for step in steps:
                if isinstance(step, type):
                    await until(pilot, lambda step=step: isinstance(app.screen, step), what=str(step))
                    if step is MergeScreen:  # its preflight passes: Merge is enabled
                        button = app.screen.query_one("#merge-yes", Button)
                        await until(pilot, lambda button=button: not button.disabled, what="mergeable")
                    continue
                await pilot.press(*step.split())
            await until(pilot, lambda: len(notices(app)) > before, what=f"a notice after {steps}")
            await pilot.pause(0.5)  # and nothing else after it
            new = notices(app)[before:]
            assert len(new) == 1 and "cannot write" in new[0] and "nothing was done" in new[0], (steps, new)
            assert not isinstance(app.screen, (MergeScreen, KillScreen, RestartScreen, SendScreen))

        await refused("s", SendScreen, " ".join("hello-read-only"), "enter")
        await refused("k", KillScreen, "y")
        await refused("r", RestartScreen, "enter")
        app.select_agent("beta")
        await pilot.pause()
        await refused("m", MergeScreen, "enter")
        # nothing half done: no paste, no commit, the same live process
        assert git(repo, "rev-parse", "main") == head and git(repo, "rev-parse", "fleet/beta") == tip
        now = fleet.pane("alpha")
        assert now is not None and now.pid == pane.pid and not now.dead
        screen = fleet.tmux.capture_history(now.pane_id, 50)
        assert "hello-read-only" not in screen
        assert load_state(fleet.layout).agent("alpha").phase != "killed"
        assert "fleet-tui snapshot" not in git(repo, "for-each-ref", "refs/fleet/snapshots")


def test_every_engine_action_probes_the_fleet_folder_first(
    make_fleet: Any, repo: Path, read_only: Callable[[Path], None]
) -> None:
    """The rule lives in the engine, so the CLI, the dashboard and the supervisor share it."""
    fleet = make_fleet(
        [
            {"name": "alpha", "script": 'write src/a.py "a\\n"\ncommit "a"\nidle\n'},
            {"name": "beta", "script": "idle"},
        ]
    )
    actions.up(fleet)
    wait_for(lambda: git(repo, "rev-parse", "fleet/alpha") != git(repo, "rev-parse", "main"), what="a commit")
    fleet_file = fleet.spec.path.read_bytes()
    read_only(fleet.layout.state_dir)
    plan = actions.QueuePlan(
        base=fleet.base, base_head=git(repo, "rev-parse", "main").strip(), items=(), skipped=()
    )
    attempts: dict[str, Callable[[], object]] = {
        "sync": lambda: pipeline.sync(fleet, "alpha"),
        "accept drift": lambda: pipeline.accept_drift(fleet, "alpha", ("x.txt",)),
        "restore": lambda: actions.restore(fleet, "alpha", "latest"),
        "merge queue": lambda: actions.run_queue(fleet, plan),
        "remove": lambda: roster.remove_agent(fleet, "alpha"),
        "add": lambda: roster.add_agent(fleet, {"name": "gamma", "task": "t", "scope": ["docs/**"]}),
        "up": lambda: actions.up(fleet),
    }
    for what, attempt in attempts.items():
        with pytest.raises(EnvironmentProblem, match="cannot write") as caught:
            attempt()
        assert "nothing was done" in caught.value.message, what
    assert fleet.spec.path.read_bytes() == fleet_file
    assert fleet.layout.worktree("alpha").exists()
    assert [p.dead for p in fleet.tmux.list_panes(fleet.session)] == [False, False]
