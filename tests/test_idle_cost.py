"""An idle fleet costs next to nothing: what is read or rendered every second is read or rendered
again only when what it comes from changed (and still follows every change)."""

from __future__ import annotations

from pathlib import Path

from conftest import git, write_files
from memory_fleet import NOW, agent

from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.planwriter import PlanWriter
from fleet_tui.engine.readcache import BranchTips, StateFile
from fleet_tui.engine.state import Layout, load_state, save_state
from fleet_tui.models import FleetSnapshot, Status

FLEET = """
[[agent]]
name = "alpha"
task = "t"
scope = ["src/**"]
preset = "shell"

[[agent]]
name = "beta"
task = "t"
scope = ["src/util.py", "docs/**"]
preset = "shell"
"""


def snapshot(beta: Status, taken_at: float = NOW) -> FleetSnapshot:
    agents = (agent("alpha", Status.IDLE), agent("beta", beta))
    return FleetSnapshot(
        fleet="repo", repo="/tmp/repo", base="main", session="s", socket="x",
        session_alive=True, taken_at=taken_at, agents=agents, overlaps=(),
    )  # fmt: skip


def test_an_unchanged_fleet_is_not_rendered_again(repo: Path) -> None:
    """The supervisor hands the writer a snapshot every second: rendering the plan for each was
    most of an idle fleet's CPU at 100 agents. Only what the plan shows may cause a render."""
    (repo / "fleet.toml").write_text(FLEET, encoding="utf-8")
    writer = PlanWriter(Fleet.open(repo))
    assert writer.update(snapshot(Status.IDLE)) is None
    first = writer.path.read_text(encoding="utf-8")
    assert writer.renders == 1
    assert "overlap beta (1 files)" in first and "overlap alpha (1 files)" in first  # src/util.py

    for second in range(1, 6):  # later pictures of the same fleet: only the time moved
        assert writer.update(snapshot(Status.IDLE, taken_at=NOW + second)) is None
    assert writer.renders == 1
    assert writer.path.read_text(encoding="utf-8") == first

    assert writer.update(snapshot(Status.WAITING, taken_at=NOW + 6)) is None
    assert writer.renders == 2
    lines = writer.path.read_text(encoding="utf-8").splitlines()
    beta_row = next(line for line in lines if "**beta**" in line)
    assert "| waiting |" in beta_row


def test_branch_tips_are_asked_of_git_only_after_a_branch_moved(repo: Path) -> None:
    tips = BranchTips(repo)
    first = tips.get()
    assert tips.reads == 1 and set(first) == {"main"}
    for _ in range(5):
        assert tips.get() is first
    assert tips.reads == 1
    git(repo, "branch", "fleet/alpha")
    assert tips.get()["fleet/alpha"] == first["main"]
    write_files(repo, {"src/more.py": "Y = 2\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more")
    assert tips.get()["main"] == git(repo, "rev-parse", "main").strip()
    assert tips.reads == 3
    moved = tips.get()
    tips._read_at -= 3600  # the safety net's age passes: git is asked, nothing moved
    assert tips.get() is moved and tips.reads == 4  # the same object: callers see "unchanged"


def test_state_is_parsed_again_only_after_it_was_written(repo: Path) -> None:
    layout = Layout(root=repo, worktree_root=repo.parent / "trees")
    layout.state_dir.mkdir()
    state = load_state(layout)
    state.base = "main"
    save_state(layout, state)
    cache = StateFile(layout)
    first = cache.get()
    assert first.base == "main" and cache.get() is first  # the same object: not parsed again
    save_state(layout, first.model_copy(deep=True))  # written again, equal
    assert cache.get() is first
    first_copy = first.model_copy(deep=True)
    first_copy.base = "trunk"
    save_state(layout, first_copy)
    assert cache.get().base == "trunk"


def test_a_still_fleet_is_read_less_often_the_longer_it_stays_still() -> None:
    from fleet_tui.engine.monitor.cadence import (
        QUIET_READS,
        SLOW_FACTOR,
        STILL_FACTOR,
        STILL_READS,
        Cadence,
    )

    pace = Cadence(1.0)
    agents = snapshot(Status.IDLE).agents
    gaps = [pace.after(agents) for _ in range(QUIET_READS + STILL_READS + 3)]
    assert gaps[:QUIET_READS] == [1.0] * QUIET_READS  # the first read, then the still ones
    assert gaps[QUIET_READS : QUIET_READS + STILL_READS] == [SLOW_FACTOR] * STILL_READS
    assert gaps[QUIET_READS + STILL_READS :] == [STILL_FACTOR] * 3
    equal_but_new = tuple(a.model_copy() for a in agents)  # rebuilt: something was read anew
    assert pace.after(equal_but_new) == 1.0
    assert pace.after(snapshot(Status.WAITING).agents) == 1.0
