"""Fuzz: every CLI command against random corruption of `.fleet/` (state, its backup, events,
launchers, exit files, missing files). Each run ends in success or one clean message, never a
traceback, and the pinned base never changes (the main checkout is on another branch meanwhile)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import git
from helpers import FLEET_TUI, wait_for

from fleet_tui.engine import actions
from fleet_tui.engine.fleet import Fleet

SEEDS = range(6)  # each seed: one kind of corruption in turn plus 0-2 random ones, then every command
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("status", "--sample", "0"),
    ("status", "--json", "--sample", "0"),
    ("log",),
    ("log", "alpha", "--json"),
    ("plan",),
    ("merge", "alpha", "--dry-run"),
    ("merge-queue", "--dry-run"),
    ("restore", "alpha"),
    ("snapshot", "alpha"),
    ("send", "alpha", "hello"),
    ("restart", "alpha", "--yes"),
    ("kill", "beta", "--yes"),
    ("merge", "beta", "--yes"),
    ("up", "--no-ui"),
    ("down",),
    ("up", "--no-ui"),
)

Corruption = Callable[[Path, random.Random], str]


def _garbage(rng: random.Random) -> bytes:
    choices = [
        b"",
        b"{",
        b"[]",
        b"null",
        b'{"base": 5, "agents": []}',
        b'{"schema": 1, "base": "feature", "agents": {"alpha": {"phase": 7}}}',
        b"\xff\xfe\x00garbage",
        b"[" * 5000,
        bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))),
    ]
    return rng.choice(choices)


def state_file(fleet_dir: Path, rng: random.Random) -> str:
    target = fleet_dir / rng.choice(["state.json", "state.json.bak"])
    if rng.random() < 0.3:
        target.unlink(missing_ok=True)
        return f"deleted {target.name}"
    target.write_bytes(_garbage(rng))
    return f"garbage in {target.name}"


def events(fleet_dir: Path, rng: random.Random) -> str:
    target = fleet_dir / "events.jsonl"
    lines = [
        b"[]",
        b"null",
        b'{"time": "yesterday", "event": 3}',
        b'{"agent": "alpha"}',
        b"\xff\xff not utf-8",
        b'{"time": 1e400, "agent": "alpha", "event": "send", "details": []}',
        b'{"time": 1, "agent": ["x"], "event": "kill", "details": {"text": "[/]"}}',
        b"x" * 100_000,
    ]
    with target.open("ab") as fh:
        for _ in range(rng.randrange(1, 6)):
            fh.write(rng.choice(lines) + b"\n")
        if rng.random() < 0.5:
            fh.write(b'{"time": 2, "agent": "al')  # a torn last line
    return "bad lines in events.jsonl"


def agent_files(fleet_dir: Path, rng: random.Random) -> str:
    agent = rng.choice(["alpha", "beta"])
    name = rng.choice(["launch.sh", "exit", "prompt.md", "handoff.md", "queued.sh"])
    target = fleet_dir / "agents" / agent / name
    if rng.random() < 0.4:
        target.unlink(missing_ok=True)
        return f"deleted agents/{agent}/{name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(rng.choice([b"1 x y", b"nan nan", b"\xff", b"", b"99999999999999999999 0"]))
    return f"garbage in agents/{agent}/{name}"


def structure(fleet_dir: Path, rng: random.Random) -> str:
    what = rng.choice(["no .fleet", "agents is a file", "events is a folder"])
    if what == "no .fleet":
        shutil.rmtree(fleet_dir)
    elif what == "agents is a file":
        shutil.rmtree(fleet_dir / "agents", ignore_errors=True)
        (fleet_dir / "agents").write_text("not a folder")
    else:
        (fleet_dir / "events.jsonl").unlink(missing_ok=True)
        (fleet_dir / "events.jsonl").mkdir()
    return what


def state_and_backup(fleet_dir: Path, rng: random.Random) -> str:
    """Both the state and its backup gone bad: recovery has only the event log (or refuses)."""
    for name in ("state.json", "state.json.bak"):
        (fleet_dir / name).write_bytes(_garbage(rng))
    return "garbage in state.json and state.json.bak"


def no_state(fleet_dir: Path, rng: random.Random) -> str:
    (fleet_dir / "state.json").unlink(missing_ok=True)
    if rng.random() < 0.5:
        (fleet_dir / "state.json.bak").unlink(missing_ok=True)
        return "deleted state.json and its backup"
    return "deleted state.json"


CORRUPTIONS: tuple[Corruption, ...] = (state_file, events, agent_files, structure, state_and_backup, no_state)


def run(fleet: Fleet, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLEET_TUI, "-C", str(fleet.root), "-f", str(fleet.spec.path), *args],
        capture_output=True, text=True, check=False, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def pinned(fleet_dir: Path) -> Any:
    """The base in state.json when it can be read at all (None otherwise)."""
    try:
        return json.loads((fleet_dir / "state.json").read_text(encoding="utf-8")).get("base")
    except (OSError, ValueError, AttributeError):
        return None


@pytest.mark.parametrize("seed", SEEDS)  # one test per seed: each stays well inside the timeout
def test_every_command_against_a_corrupt_fleet_folder(make_fleet: Any, repo: Path, seed: int) -> None:
    fleet = make_fleet(
        [
            {"name": "alpha", "script": 'write src/a.py "a\\n"\nidle\n'},
            {"name": "beta", "script": 'write src/b.py "b\\n"\ncommit "b"\nidle\n'},
        ]
    )
    actions.up(fleet)
    fleet_dir = fleet.layout.state_dir
    wait_for(lambda: (fleet.layout.worktree("alpha") / "src" / "a.py").exists(), what="alpha's work")
    pristine = fleet_dir.parent / "fleet-pristine"
    shutil.copytree(fleet_dir, pristine)
    # The person works on another branch: a silently reset state would pin *this* as the base.
    git(repo, "checkout", "-q", "-b", "feature")
    feature = git(repo, "rev-parse", "feature")
    failures: list[str] = []
    rng = random.Random(seed)
    shutil.rmtree(fleet_dir, ignore_errors=True)
    if fleet_dir.exists():
        fleet_dir.unlink()
    shutil.copytree(pristine, fleet_dir)
    kinds = [CORRUPTIONS[seed % len(CORRUPTIONS)], *rng.choices(CORRUPTIONS, k=rng.randrange(3))]
    done = []
    for corrupt in kinds:
        if fleet_dir.is_dir():  # after "no .fleet" there is nothing left to corrupt
            done.append(corrupt(fleet_dir, rng))
    for args in COMMANDS:
        result = run(fleet, *args)
        where = f"seed {seed} ({'; '.join(done)}): fleet-tui {' '.join(args)}"
        if "Traceback" in result.stderr + result.stdout:
            failures.append(f"{where}: traceback\n{result.stderr[-1500:]}")
        elif result.returncode not in (0, 1, 2):
            failures.append(f"{where}: exit {result.returncode}\n{result.stderr[-500:]}")
        elif result.returncode and not (result.stderr + result.stdout).strip():
            failures.append(f"{where}: exit {result.returncode} without a message")
        base = pinned(fleet_dir)
        if base not in (None, "main"):
            failures.append(f"{where}: the pinned base became {base!r}")
        if git(repo, "rev-parse", "feature") != feature:
            failures.append(f"{where}: something was merged into the checked-out branch")
    assert not failures, "\n\n".join(failures[:8]) + f"\n\n({len(failures)} failures)"
