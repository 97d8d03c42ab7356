"""The supervisor against a tmux that goes wrong: a server killed from outside, a session of our name
that another repository made. Real tmux, real git, the scripted fake agent, the real supervisor."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from conftest import fake_agent_command, git
from helpers import FLEET_TUI, screen_of, wait_for
from test_ownership import _second_repo

from fleet_tui.engine import actions, supervisor
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.state import Phase, load_state, read_events
from fleet_tui.models import FleetSnapshot, Status
from fleet_tui.ui.format import summary_text

ALIVE = (Status.WORKING, Status.IDLE, Status.WAITING, Status.STARTING)


def cli(fleet: Fleet, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLEET_TUI, args[0], "-C", str(fleet.root), "-f", str(fleet.spec.path), *args[1:]],
        capture_output=True, text=True, check=False, timeout=90,
    )  # fmt: skip


def published(fleet: Fleet) -> FleetSnapshot | None:
    return supervisor.SnapshotReader(fleet.layout).read()[0]


def snapshot_refs(fleet: Fleet) -> str:
    return git(fleet.root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/fleet/snapshots")


def test_a_tmux_server_killed_from_outside_shows_down_and_up_resumes_the_agents(
    make_fleet: Any, tmp_path: Path
) -> None:
    resumed = tmp_path / "resumed.txt"
    resumed.write_text("say resumed its own session\nidle\n", encoding="utf-8")
    fleet = make_fleet(
        [
            # One with a resume form (like `claude --continue`), one without (a handoff).
            {
                "name": "cont",
                "script": 'write src/c.py "c = 1\\n"\nsay first run\nidle\n',
                "resume_command": fake_agent_command(resumed),
            },
            {
                "name": "hand",
                "script": 'write src/h.py "h = 1\\n"\nsay first run\nidle\n'
                "== restart ==\nsay back from a handoff\nidle\n",
            },
        ]
    )
    assert cli(fleet, "up", "--no-ui").returncode == 0
    first = supervisor.status(fleet.layout)
    for name in ("cont", "hand"):
        wait_for(lambda n=name: "first run" in screen_of(fleet, n), what=f"{name} running")
    assert cli(fleet, "snapshot", "cont").returncode == 0  # a work snapshot taken before the loss
    wait_for(
        lambda: (s := published(fleet)) and all(a.status in ALIVE for a in s.agents),
        what="both agents alive on the published picture",
    )
    refs = snapshot_refs(fleet)
    assert refs

    subprocess.run(["tmux", "-L", fleet.tmux.socket, "kill-server"], check=True)

    down = wait_for(
        lambda: (s := published(fleet)) and not s.session_alive and s.down_reason and s,
        what="the fleet shown as down",
    )
    assert "tmux server" in (down.down_reason or "") and "fleet-tui up" in (down.down_reason or "")
    assert not [a.name for a in down.agents if a.status in ALIVE], "no stale working rows"
    assert supervisor.status(fleet.layout).fresh(), "the supervisor goes on"
    text = cli(fleet, "status")
    assert (
        text.returncode == 0 and "tmux server" in text.stdout and "Traceback" not in text.stdout + text.stderr
    )
    assert "tmux server" in summary_text(down).plain  # the dashboard's header says the same
    watched = json.loads(cli(fleet, "watch", "--json", "--count", "1").stdout.splitlines()[0])
    assert watched["session_alive"] is False and "tmux server" in watched["down_reason"]
    lost = [e for e in read_events(fleet.layout) if e.event == "session-down"]
    assert len(lost) == 1 and "tmux server" in lost[0].details["reason"]
    log = fleet.layout.supervisor_log.read_text(encoding="utf-8")
    assert "Traceback" not in log and "the fleet is down" in log
    # Every snapshot and every uncommitted file is kept.
    assert snapshot_refs(fleet) == refs
    assert (fleet.layout.worktree("cont") / "src" / "c.py").read_text(encoding="utf-8") == "c = 1\n"

    up = cli(fleet, "up", "--no-ui")
    assert up.returncode == 0, up.stderr
    assert "resumed cont with its resume command" in up.stdout, up.stdout
    assert "restarted hand with a handoff" in up.stdout and "not counted as a restart" in up.stdout
    wait_for(lambda: "resumed its own session" in screen_of(fleet, "cont"), what="cont resumed")
    wait_for(lambda: "back from a handoff" in screen_of(fleet, "hand"), what="hand resumed")
    state = load_state(fleet.layout)
    assert [state.agent(n).restarts for n in ("cont", "hand")] == [0, 0]  # max_restarts untouched
    assert [state.agent(n).phase for n in ("cont", "hand")] == [Phase.RUNNING, Phase.RUNNING]
    assert supervisor.status(fleet.layout).pid == first.pid  # the same supervisor saw it all
    wait_for(
        lambda: (s := published(fleet)) and s.session_alive and s.down_reason is None,
        what="the fleet shown as up again",
    )
    assert [e for e in read_events(fleet.layout) if e.event == "session-up"]
    assert set(refs.splitlines()) <= set(snapshot_refs(fleet).splitlines())  # new ones beside them


def test_a_session_of_our_name_made_by_another_repository_is_not_read_as_ours(
    make_fleet: Any, tmp_path: Path, server: Any
) -> None:
    from test_supervisor import in_thread

    # Both repositories are folders named `repo`, and both fleets are named `shared`: one session name.
    other = _second_repo(tmp_path, server, name="shared")
    actions.up(other)
    notes: list[dict[str, Any]] = []
    with in_thread(other, notes) as sup:
        wait_for(lambda: (s := published(other)) and s.session_alive, what="the other fleet up")
        # Its session is closed from outside; then mine comes up under the same name.
        server.cmd("kill-session", "-t", f"={other.session}")
        mine = make_fleet(
            [{"name": "alpha", "script": "say first agent here\nask 'Proceed with the plan?'\nidle\n"}],
            name="shared",
        )
        assert mine.root.name == other.root.name and mine.session == other.session
        actions.up(mine)
        wait_for(lambda: "Proceed with the plan?" in screen_of(mine, "alpha"), what="mine waiting")
        seen = sup.published
        snap = wait_for(
            lambda: (s := published(other)) and s.down_reason and sup.published > seen and s,
            what="the other fleet's picture after mine came up",
        )
        alpha = snap.agent("alpha")
        assert alpha is not None and alpha.status == Status.MISSING and alpha.pane_id is None
        assert "first agent here" not in alpha.screen
        assert not snap.session_alive and f"belongs to {mine.root}" in (snap.down_reason or "")
        beat = sup._heartbeat
        wait_for(lambda: sup._heartbeat > beat + 1, what="more ticks of the other supervisor")
    # The waiting agent is mine: the other fleet neither logged it nor notified about it.
    assert not notes
    other_events = read_events(other.layout)
    assert not [e for e in other_events if e.agent == "alpha" and e.details.get("status") == "waiting"]
    assert [e for e in other_events if e.event == "session-down" and "belongs to" in e.details["reason"]]
    # A one-off reading (what `status` runs without a supervisor) is the same; mine reads its own.
    one_off = Monitor(other).tick()
    assert one_off.agent("alpha").status == Status.MISSING  # type: ignore[union-attr]
    assert f"belongs to {mine.root}" in (one_off.down_reason or "")
    own = Monitor(mine).tick()
    assert own.session_alive and own.agent("alpha").pane_id is not None  # type: ignore[union-attr]


def test_a_supervisor_started_before_the_first_up_leaves_the_fleet_able_to_come_up(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "say hello\nidle\n"}])
    # `watch` (like a dashboard opened first) starts the supervisor on a fleet never brought up.
    watched = cli(fleet, "watch", "--json", "--count", "1")
    assert watched.returncode == 0, watched.stderr
    assert json.loads(watched.stdout.splitlines()[0])["session_alive"] is False
    assert supervisor.status(fleet.layout).running
    wait_for(lambda: [e for e in read_events(fleet.layout) if e.event == "status"], what="it watched")
    up = cli(fleet, "up", "--no-ui")
    assert up.returncode == 0, up.stdout + up.stderr  # not "state.json is missing ... cannot tell the base"
    wait_for(lambda: "hello" in screen_of(fleet, "alpha"), what="alpha started")
    assert load_state(fleet.layout).base == "main"
