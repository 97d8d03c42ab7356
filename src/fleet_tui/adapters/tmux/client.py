"""A tmux client in the foreground (an attach): the terminal is the person's until they detach."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence


def client_env() -> dict[str, str]:
    """Environment for a tmux client that must not nest inside the person's own tmux."""
    env = dict(os.environ)
    env.pop("TMUX", None)
    env.pop("TMUX_PANE", None)
    return env


def run_client(argv: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Run a tmux client in the foreground (an attach) until the person detaches; its exit code."""
    return subprocess.run(list(argv), env=env if env is not None else client_env(), check=False).returncode
