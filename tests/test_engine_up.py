"""`up` against real tmux and real git: panes, worktrees, idempotence, rebuilds, the injection task."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import git, toml_value, write_files
from helpers import wait_for, wait_snapshot

from fleet_tui.adapters import processes
from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.launcher import AGENT_MARKER, agent_id
from fleet_tui.engine.monitor import Monitor
from fleet_tui.errors import EnvironmentProblem, SpecError
from fleet_tui.models import Status

PANE_FIELDS = (
    "#{pane_id}\t#{window_id}\t#{@fleet_agent}\t#{pane_title}\t#{pane_current_path}\t#{remain-on-exit}"
)


def panes(server: Any, session: str) -> list[dict[str, str]]:
    out = server.cmd("list-panes", "-s", "-t", f"={session}", "-F", PANE_FIELDS).stdout
    keys = ("id", "window", "agent", "title", "path", "remain")
    return [dict(zip(keys, line.split("\t"), strict=True)) for line in out]


def screen(server: Any, pane_id: str) -> str:
    return "\n".join(server.cmd("capture-pane", "-p", "-J", "-S", "-200", "-t", pane_id).stdout)


def branch_of(path: Path) -> str:
    return git(path, "rev-parse", "--abbrev-ref", "HEAD").strip()


def test_up_builds_one_labelled_pane_per_agent_in_its_worktree(
    make_fleet: Any, server: Any, repo: Path
) -> None:
    names = ["a1", "a2", "a3", "a4", "a5"]
    fleet: Fleet = make_fleet([{"name": n} for n in names], panes_per_window=2)
    report = up(fleet)

    assert any("started tmux session" in c for c in report.changes)
    for name in names:
        assert f"created branch fleet/{name} from main" in report.changes
        assert f"created worktree {fleet.layout.worktree(name)} on fleet/{name}" in report.changes
    found = panes(server, fleet.session)
    assert sorted(p["agent"] for p in found) == names
    for pane in found:
        worktree = fleet.layout.worktree(pane["agent"])
        assert pane["title"] == pane["agent"]
        assert pane["remain"] == "on"
        assert branch_of(worktree) == f"fleet/{pane['agent']}"
        assert fleet.pane_id(pane["agent"]) == pane["id"]
    # the agent process runs in its worktree (tmux reports the foreground process's folder)
    wait_for(
        lambda: all(
            Path(p["path"]).resolve() == fleet.layout.worktree(p["agent"]).resolve()
            for p in panes(server, fleet.session)
        ),
        timeout=30,
        what="every pane's current path to be its worktree",
    )
    # five agents, two per window: three windows holding 2, 2 and 1 panes
    per_window: dict[str, int] = {}
    for pane in found:
        per_window[pane["window"]] = per_window.get(pane["window"], 0) + 1
    assert sorted(per_window.values(), reverse=True) == [2, 2, 1]
    # .fleet/ exists at the root and git ignores it through info/exclude, not .gitignore
    assert (repo / ".fleet" / "state.json").exists()
    exclude = (repo / ".git" / "info" / "exclude").read_text(encoding="utf-8").splitlines()
    assert exclude.count("/.fleet/") == 1
    assert git(repo, "status", "--porcelain") == ""
    assert not (repo / ".gitignore").exists()


def test_up_twice_changes_nothing_and_says_so(make_fleet: Any, server: Any) -> None:
    fleet: Fleet = make_fleet([{"name": "one"}, {"name": "two"}], panes_per_window=1)
    assert up(fleet).changes
    before = panes(server, fleet.session)
    exclude_before = (fleet.root / ".git" / "info" / "exclude").read_text(encoding="utf-8")
    heads_before = git(fleet.root, "show-ref")

    again = up(fleet)
    assert again.changes == []
    after = panes(server, fleet.session)
    assert [p["id"] for p in after] == [p["id"] for p in before]
    assert (fleet.root / ".git" / "info" / "exclude").read_text(encoding="utf-8") == exclude_before
    assert git(fleet.root, "show-ref") == heads_before


def test_a_worktree_deleted_by_hand_is_recreated(make_fleet: Any, server: Any) -> None:
    fleet: Fleet = make_fleet([{"name": "one"}, {"name": "two"}])
    up(fleet)
    one = fleet.layout.worktree("one")
    write_files(one, {"src/kept.py": "x = 1\n"})
    git(one, "add", "-A")
    git(one, "commit", "-qm", "work on one")
    tip = git(fleet.root, "rev-parse", "fleet/one").strip()
    shutil.rmtree(one)

    report = up(fleet)
    assert report.changes[0] == f"created worktree {one} on fleet/one"
    # The agent was still running in the deleted folder: it restarts in the new one, with a handoff.
    assert report.changes[1].startswith("restarted one with a handoff: its worktree was re-created")
    assert len(report.changes) == 2
    pane = wait_for(lambda: next((p for p in panes(server, fleet.session) if p["agent"] == "one"), None))
    assert pane["path"] == str(one)
    assert branch_of(one) == "fleet/one"
    assert git(fleet.root, "rev-parse", "fleet/one").strip() == tip  # the branch and its commit stay
    assert (one / "src" / "kept.py").read_text(encoding="utf-8") == "x = 1\n"
    assert up(fleet).changes == []


def test_a_killed_session_is_rebuilt_without_touching_worktrees(make_fleet: Any, server: Any) -> None:
    fleet: Fleet = make_fleet([{"name": "one"}, {"name": "two"}])
    up(fleet)
    one = fleet.layout.worktree("one")
    write_files(one, {"src/app.py": "uncommitted work\n", "notes.txt": "untracked work\n"})
    heads = git(fleet.root, "show-ref", "--heads")
    worktrees = git(fleet.root, "worktree", "list", "--porcelain")
    server.cmd("kill-session", "-t", f"={fleet.session}")
    assert not fleet.tmux.session_exists(fleet.session)

    report = up(fleet)
    assert not any("branch" in c or "worktree" in c for c in report.changes), report.changes
    assert any("started tmux session" in c for c in report.changes)
    assert (
        sum(
            c.startswith(("restarted one with a handoff", "restarted two with a handoff"))
            for c in report.changes
        )
        == 2
    )
    assert fleet.layout.handoff_file("one").exists()
    rebuilt = panes(server, fleet.session)
    assert sorted(p["agent"] for p in rebuilt) == ["one", "two"]
    assert all(p["remain"] == "on" and p["title"] == p["agent"] for p in rebuilt)
    assert (one / "src" / "app.py").read_text(encoding="utf-8") == "uncommitted work\n"
    assert (one / "notes.txt").read_text(encoding="utf-8") == "untracked work\n"
    assert git(fleet.root, "show-ref", "--heads") == heads  # a snapshot ref is new; branches stay
    assert git(fleet.root, "worktree", "list", "--porcelain") == worktrees


def test_a_pane_closed_by_hand_is_added_back(make_fleet: Any, server: Any) -> None:
    fleet: Fleet = make_fleet([{"name": "one"}, {"name": "two"}], panes_per_window=2)
    up(fleet)
    two = fleet.pane_id("two")
    assert two
    server.cmd("kill-pane", "-t", two)
    report = up(fleet)
    assert len(report.changes) == 1
    assert report.changes[0].startswith("restarted two with a handoff: its pane was gone")
    assert sorted(p["agent"] for p in panes(server, fleet.session)) == ["one", "two"]


def test_a_folder_in_the_way_is_reported_and_left_alone(make_fleet: Any, server: Any) -> None:
    fleet: Fleet = make_fleet([{"name": "one"}])
    in_the_way = fleet.layout.worktree("one")
    write_files(in_the_way, {"precious.txt": "do not touch\n"})

    with pytest.raises(EnvironmentProblem) as info:
        up(fleet)
    assert str(in_the_way) in info.value.message
    assert "not the worktree of fleet/one" in info.value.message
    assert info.value.hint and "never deletes" in info.value.hint
    assert [p.name for p in in_the_way.iterdir()] == ["precious.txt"]
    assert (in_the_way / "precious.txt").read_text(encoding="utf-8") == "do not touch\n"
    assert not fleet.tmux.session_exists(fleet.session)
    assert git(fleet.root, "branch", "--list", "fleet/*") == ""  # nothing half-made


# -- the task never reaches a shell --------------------------------------------------------------

INJECTION = (
    "Fix the parser'; touch PWNED; $(touch PWNED2)\n"
    'and "$(touch PWNED3)" `touch PWNED4` ${IFS}; rm -rf ~ \\n literal\n'
    "second line: it's done when tests pass\n"
)


def no_pwned(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("PWNED*")]


def test_injection_task_reaches_the_fake_agent_verbatim(make_fleet: Any, server: Any, tmp_path: Path) -> None:
    fleet: Fleet = make_fleet([{"name": "inj", "task": INJECTION, "script": "show-prompt\nsay SHOWN-END"}])
    up(fleet)
    pane = fleet.pane_id("inj")
    assert pane
    text = wait_for(lambda: "SHOWN-END" in screen(server, pane) and screen(server, pane), what="task shown")
    for line in INJECTION.splitlines():
        assert line in text
    assert fleet.layout.prompt_file("inj").read_bytes() == INJECTION.encode("utf-8")
    assert fleet.agent("inj").task == INJECTION
    assert no_pwned(tmp_path, Path.home()) == []


def test_injection_task_through_the_builtin_shell_preset(repo: Path, server: Any, tmp_path: Path) -> None:
    """No command override: the preset's own template (`cat {prompt_file}; ... sh -i`) runs."""
    fleet_file = tmp_path / "fleet.toml"
    fleet_file.write_text(
        f"[fleet]\nsocket = {toml_value(server.socket_name)}\n\n"
        f'[[agent]]\nname = "sh1"\npreset = "shell"\nscope = ["src/**"]\ntask = {toml_value(INJECTION)}\n',
        encoding="utf-8",
    )
    fleet = Fleet.open(repo, fleet_file)
    up(fleet)
    pane = fleet.pane_id("sh1")
    assert pane
    text = wait_for(lambda: "it's done when tests pass" in screen(server, pane) and screen(server, pane))
    for line in INJECTION.splitlines():
        assert line in text
    # the interactive shell it ends in works, in the worktree, and ran nothing from the task
    server.cmd("send-keys", "-t", pane, "pwd > where.txt", "Enter")
    where = fleet.layout.worktree("sh1") / "where.txt"
    wait_for(lambda: where.exists() and where.read_text().strip(), what="the shell to answer")
    assert Path(where.read_text().strip()).resolve() == fleet.layout.worktree("sh1").resolve()
    assert no_pwned(tmp_path, Path.home()) == []


def test_worktree_root_inside_the_repository_is_refused(make_fleet, repo) -> None:
    with pytest.raises(SpecError) as info:
        make_fleet([{"name": "a"}], worktree_root="agents")
    assert info.value.where == "fleet.worktree_root"
    assert "inside the repository" in info.value.problem


def test_an_existing_branch_is_used_and_said_so(make_fleet, repo) -> None:
    git(repo, "branch", "fleet/a")
    fleet = make_fleet([{"name": "a"}])
    report = up(fleet)
    assert "using the existing branch fleet/a" in report.changes


def agent_processes(fleet: Fleet, name: str) -> set[int]:
    return processes.with_env(AGENT_MARKER, agent_id(fleet.layout, name))


def test_down_stops_every_agent_process_even_stubborn_ones(make_fleet: Any) -> None:
    fleet: Fleet = make_fleet(
        [
            {"name": "busy", "script": 'orphan\nsay "helper started"\nwork 600 thinking\n'},
            {"name": "plain", "command": "sleep 1234"},
        ]
    )
    up(fleet)
    # The launcher sets the marker for what it starts: the agent and its helper carry it.
    wait_for(lambda: len(agent_processes(fleet, "busy")) >= 2, what="agent and helper")
    wait_for(lambda: agent_processes(fleet, "plain"), what="sleep")
    assert fleet.down()
    assert not agent_processes(fleet, "busy"), "nothing of the agent keeps working headless"
    assert not agent_processes(fleet, "plain")


def test_a_lost_session_never_leaves_two_copies_of_an_agent(make_fleet: Any, server: Any) -> None:
    # An agent whose helper ignores SIGHUP and SIGTERM survives the tmux server's death.
    fleet: Fleet = make_fleet([{"name": "one", "script": 'orphan\nsay "helper started"\nidle\n'}])
    up(fleet)
    wait_for(lambda: len(agent_processes(fleet, "one")) >= 2, what="agent and helper")
    server.cmd("kill-server")
    survivors = wait_for(lambda: agent_processes(fleet, "one"), what="the stubborn helper")
    report = up(fleet)
    assert any(c.startswith("restarted one with a handoff") for c in report.changes), report.changes
    assert not processes.alive(survivors), "the old run's processes were stopped before the new one"
    pane = fleet.tmux.list_panes(fleet.session)[0]
    wait_for(lambda: agent_processes(fleet, "one") <= processes.tree(pane.pid), what="only the new run")


def test_a_rebuild_does_not_run_ended_or_killed_agents_again(make_fleet: Any, server: Any) -> None:
    from fleet_tui.engine import actions

    fleet: Fleet = make_fleet(
        [
            {"name": "done", "script": 'append src/done.txt "once\\n"\nexit 0\n'},
            {"name": "boom", "script": "crash on cue\n"},
            {"name": "stopped", "script": "idle\n"},
        ]
    )
    up(fleet)
    wait_for(lambda: (fleet.layout.worktree("done") / "src" / "done.txt").exists(), what="done's work")
    wait_for(lambda: all(fleet.layout.exit_file(n).exists() for n in ("done", "boom")), what="exits")
    actions.kill(fleet, "stopped", grace=0.5)
    server.cmd("kill-session", "-t", f"={fleet.session}")

    report = up(fleet)
    assert "done had ended (exit code 0): not started again" in report.changes
    assert "boom had ended (exit code 1): not started again" in report.changes
    assert "stopped was killed: not started again" in report.changes
    monitor = Monitor(fleet)
    snap = wait_snapshot(monitor, lambda s: s.agent("boom").status == Status.CRASHED, what="crashed again")
    assert snap.agent("done").status == Status.EXITED and snap.agent("stopped").status == Status.KILLED
    assert (fleet.layout.worktree("done") / "src" / "done.txt").read_text() == "once\n", "not run twice"


def test_base_is_pinned_at_up_so_a_checkout_does_not_move_it(make_fleet: Any, repo: Path) -> None:
    from fleet_tui.engine import actions

    fleet: Fleet = make_fleet([{"name": "one", "script": 'write src/one.py "1\\n"\ncommit one\nidle\n'}])
    up(fleet)
    wait_for(lambda: git(fleet.layout.worktree("one"), "log", "-1", "--format=%s").strip() == "one")
    git(repo, "checkout", "-q", "-b", "my-feature")
    reopened = Fleet.open(repo, fleet.spec.path)
    assert reopened.base == "main"
    before = git(repo, "rev-parse", "my-feature", "main")
    with pytest.raises(actions.MergeRefused) as info:
        actions.merge(reopened, "one")
    assert "not on main" in str(info.value) + " ".join(c.detail for c in info.value.preflight.checks)
    assert git(repo, "rev-parse", "my-feature", "main") == before, "neither branch moved"
