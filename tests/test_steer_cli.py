"""The steering commands from a shell: kill, restore, merge, merge-queue, log."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import git
from helpers import wait_for

from fleet_tui.adapters import git as gitad
from fleet_tui.cli import cli
from fleet_tui.engine.actions import up


def invoke(fleet, *args: str):
    result = CliRunner().invoke(cli, [args[0], "-C", str(fleet.root), "-f", str(fleet.spec.path), *args[1:]])
    assert "Traceback" not in result.output
    return result


def test_kill_restore_and_log_from_the_shell(make_fleet) -> None:
    fleet = make_fleet([{"name": "alpha", "script": 'write src/app.py "agent work\\n"\nsay ready\nidle\n'}])
    up(fleet)
    worktree = fleet.layout.worktree("alpha")
    wait_for(lambda: (worktree / "src/app.py").read_text(encoding="utf-8") == "agent work\n")

    killed = invoke(fleet, "kill", "alpha", "--grace", "1")
    assert killed.exit_code == 0, killed.output
    assert "1 uncommitted file " in killed.output and "killed alpha" in killed.output

    listing = invoke(fleet, "restore", "alpha")
    assert listing.exit_code == 0 and "snapshots of alpha" in listing.output
    name = gitad.list_snapshots(worktree, "alpha")[0].name
    assert name in listing.output and "1 file " in listing.output

    # Newer work in the same file: restore refuses and changes nothing.
    (worktree / "src/app.py").write_text("newer work\n", encoding="utf-8")
    refused = invoke(fleet, "restore", "alpha", name)
    assert refused.exit_code == 1
    assert "would overwrite uncommitted changes newer than the snapshot in src/app.py" in refused.output
    assert "--force" in refused.output
    assert (worktree / "src/app.py").read_text(encoding="utf-8") == "newer work\n"

    forced = invoke(fleet, "restore", "alpha", name, "--force")
    assert forced.exit_code == 0, forced.output
    assert (worktree / "src/app.py").read_text(encoding="utf-8") == "agent work\n"
    assert "state before was saved as" in forced.output
    newest = gitad.list_snapshots(worktree, "alpha")[0]
    assert git(worktree, "show", f"{newest.commit}:src/app.py") == "newer work\n"

    log = invoke(fleet, "log", "alpha")
    lines = [ln for ln in log.output.splitlines() if ln.strip()]
    events = [ln.split()[3] for ln in lines]
    assert events[:3] == ["restore", "snapshot", "restore-refused"]  # newest first
    assert "kill" in events

    unknown = invoke(fleet, "kill", "nobody")
    assert unknown.exit_code == 2 and "no agent named 'nobody'" in unknown.output


def test_merge_dry_run_and_queue_need_confirmation(make_fleet, repo: Path) -> None:
    fleet = make_fleet([{"name": "alpha", "script": 'write src/util.py "theirs\\n"\ncommit "util"\nidle\n'}])
    up(fleet)
    wait_for(lambda: gitad.commits_since(fleet.layout.worktree("alpha"), "main"))
    head = git(repo, "rev-parse", "main")

    dry = invoke(fleet, "merge", "alpha", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "merges cleanly" in dry.output and "preflight passed" in dry.output

    queue = invoke(fleet, "merge-queue")
    assert queue.exit_code == 1 and "pass --yes" in queue.output and "1. alpha" in queue.output
    assert git(repo, "rev-parse", "main") == head

    (repo / "src/util.py").write_text("ours\n", encoding="utf-8")
    git(repo, "commit", "-qam", "base edits util")
    head = git(repo, "rev-parse", "main")
    failed = invoke(fleet, "merge", "alpha")
    assert failed.exit_code == 1
    assert "FAIL conflicts" in failed.output and "conflict: src/util.py" in failed.output
    assert git(repo, "rev-parse", "main") == head

    git(repo, "reset", "-q", "--hard", "HEAD~1")
    done = invoke(fleet, "merge-queue", "--yes")
    assert done.exit_code == 0, done.output
    assert "merged fleet/alpha into main" in done.output
