"""Bad input gets one clear message and exit 2, never a traceback, a hang or half-made state."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import git
from helpers import FLEET_TUI

from fleet_tui.engine.fleet import Fleet

AGENT = '[[agent]]\nname = "api"\ntask = "t"\nscope = ["src/**"]\ncommand = "true"\n'


def run(repo: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLEET_TUI, "-C", str(repo), *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def refused(repo: Path, *args: str, says: str) -> None:
    result = run(repo, *args)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and says in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, "one message (and a hint)"


def fleet_branches(repo: Path) -> str:
    return git(repo, "branch", "--list", "fleet/*").strip()


def test_task_and_fleet_files_are_read_only_from_small_regular_files(repo: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * (2 * 1024 * 1024))
    for target, says in (("/dev/zero", "not a regular file"), (fifo, "not a regular file"), (big, "limit")):
        (repo / "fleet.toml").write_text(AGENT.replace('task = "t"', f'task_file = "{target}"'))
        refused(repo, "plan", says=says)
        link = tmp_path / "linked.toml"
        link.unlink(missing_ok=True)
        link.symlink_to(target)
        refused(repo, "-f", str(link), "plan", says=says)
    assert fleet_branches(repo) == ""


def test_deep_nesting_and_a_long_cycle_are_messages(repo: Path) -> None:
    (repo / "fleet.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n" + AGENT)
    refused(repo, "plan", says="nested too deeply")
    agents = [
        f'[[agent]]\nname = "a{i}"\ntask = "t"\nscope = ["src/**"]\ncommand = "true"\n'
        f'depends_on = ["a{(i + 1) % 1200}"]\n'
        for i in range(1200)
    ]
    (repo / "fleet.toml").write_text("\n".join(agents))
    refused(repo, "plan", says="dependency cycle: a0 -> a1 -> a2")


def test_worktree_root_on_a_file_is_refused_before_any_branch_is_made(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    for root in ("../afile", "../afile/below"):
        settings = f'[fleet]\nworktree_root = "{root}"\nsocket = "hostile-wt"\n'
        (repo / "fleet.toml").write_text(settings + AGENT)
        refused(repo, "up", "--no-ui", says="is a file")
        assert fleet_branches(repo) == ""


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ('[fleet]\nworktree_root = "/"\n', "filesystem root"),
        ('[fleet]\nworktree_root = "../../../../../../../../../../../../.."\n', "filesystem root"),
        ('[fleet]\nworktree_root = ""\n', "expected a folder path"),
        ('[fleet]\nworktree_root = "  "\n', "expected a folder path"),
        ('[fleet]\nname = "api\\n"\n', "not a valid name"),
        ('[fleet]\nsocket = "sock\\n"\n', "not a valid tmux socket name"),
        ('[fleet]\nbase = "main\\n"\n', "not a branch name"),
    ],
)
def test_fleet_settings_that_would_fail_later_are_refused_now(repo: Path, setting: str, says: str) -> None:
    (repo / "fleet.toml").write_text(setting + AGENT)
    refused(repo, "plan", says=says)


@pytest.mark.parametrize(
    ("agent", "says"),
    [
        (AGENT.replace('name = "api"', 'name = "api\\n"'), "not a valid name"),
        (AGENT + 'env = { TOKEN = "a\\u0000b" }\n', "NUL"),
        (AGENT + 'verify = ""\n', "empty verify"),
        (AGENT + 'verify = "   "\n', "empty verify"),
        (AGENT + "\n" + AGENT.replace('name = "api"', 'name = "API"'), "only by case"),
        (AGENT + 'depends_on = ["x\\n"]\n', "not a valid name"),
    ],
)
def test_agent_values_that_would_fail_later_are_refused_now(repo: Path, agent: str, says: str) -> None:
    (repo / "fleet.toml").write_text(agent)
    refused(repo, "plan", says=says)


def test_a_preset_env_with_nul_is_refused(repo: Path) -> None:
    (repo / "fleet.toml").write_text('[preset.shell]\nenv = { A = "\\u0000" }\n' + AGENT)
    refused(repo, "plan", says="NUL")


def test_status_sample_must_be_a_finite_number_of_seconds(repo: Path) -> None:
    (repo / "fleet.toml").write_text('[fleet]\nsocket = "hostile-sample"\n' + AGENT)
    for value in ("inf", "nan", "-1", "1e308"):
        result = run(repo, "status", "--sample", value)
        assert result.returncode == 2 and "--sample" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_a_byte_order_mark_at_the_start_of_fleet_toml_is_fine(repo: Path) -> None:
    (repo / "fleet.toml").write_bytes(b"\xef\xbb\xbf" + AGENT.encode())
    result = run(repo, "plan")
    assert result.returncode == 0, result.stderr


def chain(agents: int) -> str:
    lines = []
    for i in range(agents):
        lines.append(f'[[agent]]\nname = "a{i}"\ntask = "t"\nscope = ["src/**"]\ncommand = "true"')
        if i:
            lines.append(f'depends_on = ["a{i - 1}"]')
    return "\n".join(lines) + "\n"


def test_plan_of_a_long_chain_is_near_linear(repo: Path) -> None:
    """Every scope covers the same files, so each is an overlap of all agents (the worst case)."""
    timings = {}
    for n in (250, 1000):
        (repo / "fleet.toml").write_text(chain(n))
        start = time.perf_counter()
        plan = Fleet.open(repo).plan()
        timings[n] = time.perf_counter() - start
        assert plan.order == tuple(f"a{i}" for i in range(n))
        assert plan.overlaps and not plan.unrelated_overlaps  # the chain relates every pair
    assert timings[1000] < 10, timings  # was over 90 s for 1,200 agents (and cubic)
    # 4x the agents: near-linear is ~4x; anything quadratic or worse is 16x and more
    assert timings[1000] < 10 * timings[250] + 0.5, timings


def test_plan_flags_the_pair_that_does_not_depend_on_each_other(repo: Path) -> None:
    text = chain(50) + '[[agent]]\nname = "loner"\ntask = "t"\nscope = ["src/app.py"]\ncommand = "true"\n'
    (repo / "fleet.toml").write_text(text)
    plan = Fleet.open(repo).plan()
    assert [e.path for e in plan.unrelated_overlaps] == ["src/app.py"]
    assert {e.path for e in plan.overlaps} > {"src/app.py"}


def test_a_task_too_long_for_one_argument_is_refused_before_anything_starts(
    repo: Path, tmp_path: Path
) -> None:
    task = tmp_path / "task.md"
    task.write_text("word " * 40_000)  # 200 KB: the claude preset's `"$(cat {prompt_file})"` fails
    (repo / "fleet.toml").write_text(
        f'[[agent]]\nname = "api"\ntask_file = "{task}"\nscope = ["src/**"]\npreset = "claude"\n'
    )
    refused(repo, "plan", says="as one command-line argument")
    # a command that reads the file itself takes it
    (repo / "fleet.toml").write_text(AGENT.replace('task = "t"', f'task_file = "{task}"'))
    assert run(repo, "plan").returncode == 0
