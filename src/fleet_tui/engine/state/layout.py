"""Where the fleet keeps its files: `.fleet/` and the worktrees, each path named once; files
written atomically; the exit code a launcher left."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

STATE_DIR = ".fleet"


@dataclass(frozen=True)
class Layout:
    """Every path fleet-tui reads or writes for one fleet."""

    root: Path
    worktree_root: Path

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def backup_file(self) -> Path:
        return self.state_dir / "state.json.bak"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "state.lock"

    @property
    def up_lock_file(self) -> Path:
        return self.state_dir / "up.lock"

    @property
    def events_file(self) -> Path:
        return self.state_dir / "events.jsonl"

    @property
    def snapshot_file(self) -> Path:
        return self.state_dir / "snapshot.json"

    @property
    def supervisor_lock(self) -> Path:
        return self.state_dir / "supervisor.lock"

    @property
    def supervisor_file(self) -> Path:
        return self.state_dir / "supervisor.json"

    @property
    def supervisor_log(self) -> Path:
        return self.state_dir / "supervisor.log"

    def worktree(self, agent: str) -> Path:
        return self.worktree_root / agent

    @property
    def agents_dir(self) -> Path:
        """Every agent's own folder: prompt, handoff, exit file, hooks' signals, statusline."""
        return self.state_dir / "agents"

    def agent_dir(self, agent: str) -> Path:
        return self.agents_dir / agent

    def prompt_file(self, agent: str) -> Path:
        return self.agent_dir(agent) / "prompt.md"

    def handoff_file(self, agent: str) -> Path:
        return self.agent_dir(agent) / "handoff.md"

    def launcher(self, agent: str) -> Path:
        return self.agent_dir(agent) / "launch.sh"

    def queued_script(self, agent: str) -> Path:
        return self.agent_dir(agent) / "queued.sh"

    def exit_file(self, agent: str) -> Path:
        return self.agent_dir(agent) / "exit"


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Write a file so readers see the old or the new content, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_exit(layout: Layout, agent: str, run: int) -> int | None:
    """The exit code the launcher recorded for this run, if it has ended."""
    try:
        run_s, code_s = layout.exit_file(agent).read_text(encoding="utf-8").split()
        return int(code_s) if int(run_s) == run else None
    except (OSError, ValueError):
        return None
