"""Agent presets as data: how to start an agent CLI, restart it, stop it, and read its screen.

The built-in presets live in `presets.toml` beside this module; a fleet file may override any field
of one (`[preset.claude]`) or define its own (`[preset.mytool]`) in the same form.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class StatusPatterns(BaseModel):
    """Regexes matched per line against the bottom of the screen, strongest evidence first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    waiting: tuple[str, ...] = ()
    working: tuple[str, ...] = ()
    error: tuple[str, ...] = ()
    idle: tuple[str, ...] = ()

    @field_validator("waiting", "working", "error", "idle")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return patterns


# The signal mechanisms fleet-tui knows how to install, each without touching the person's own config
# or the agent's worktree (everything lives in .fleet/agents/<name>/):
#   claude-hooks       Claude Code hooks, in a settings file passed with `claude --settings <file>`
#   claude-statusline  Claude Code statusLine in the same file: context use, cost, model
#   codex-notify       Codex `notify` (turn complete), passed with `codex -c notify=[...]`
# The preset's command template says where they go with the {signals} placeholder.
SignalKind = Literal["claude-hooks", "claude-statusline", "codex-notify"]


class Preset(BaseModel):
    """One agent CLI: its commands, environment, polite exit and status patterns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    program: str | None = None
    command: str = ""
    restart_command: str | None = None
    # How the CLI picks up its own last session after `down` (e.g. `claude --continue`); without
    # one, `up` restarts the agent on a handoff instead. Neither counts against max_restarts.
    resume_command: str | None = None
    exit_keys: tuple[str, ...] = ()
    bottom_lines: int = Field(12, ge=1, le=200)
    env: dict[str, str] = Field(default_factory=dict)
    patterns: StatusPatterns = Field(default_factory=StatusPatterns)
    signals: tuple[SignalKind, ...] = ()
    context_window: int | None = Field(None, ge=1000, le=100_000_000)  # tokens

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, str]) -> dict[str, str]:
        return check_env_names(env)

    @field_validator("command", "restart_command", "resume_command")
    @classmethod
    def _known_placeholders(cls, template: str | None) -> str | None:
        if template:
            check_template(template)
        return template


def check_env_names(env: dict[str, str]) -> dict[str, str]:
    """Environment variable names only: they are written into the launcher's `export` lines."""
    for key, value in env.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"{key!r} is not an environment variable name")
        if "\x00" in value:  # no process environment can hold one: it would fail at every start
            raise ValueError(f"the value of {key} contains a NUL character")
    return env


PLACEHOLDERS = ("prompt_file", "handoff_file", "worktree", "signals")
# `{name}` is a placeholder; `${NAME}` and `${NAME:-x}` stay the shell's own.
PLACEHOLDER_RE = re.compile(r"(?<!\$)\{([a-z_]+)\}")


def check_template(template: str) -> None:
    """Reject placeholders other than {prompt_file}, {handoff_file}, {worktree}, {signals}."""
    for name in PLACEHOLDER_RE.findall(template):
        if name not in PLACEHOLDERS:
            raise ValueError(
                f"unknown placeholder {{{name}}} in {template!r}: "
                "use {prompt_file}, {handoff_file}, {worktree} or {signals}"
            )


def render_template(template: str, values: dict[str, str]) -> str:
    """Fill placeholders with the given (already shell-quoted) values."""
    return PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], template)


def merge_preset(base: Preset | None, override: dict[str, Any]) -> Preset:
    """A preset from `override`, on top of `base` when there is one (env and patterns merge)."""
    data: dict[str, Any] = base.model_dump() if base else {}
    for key, value in override.items():
        if key in ("env", "patterns") and isinstance(value, dict) and key in data:
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Preset.model_validate(data)


def _load_builtin() -> dict[str, Preset]:
    text = resources.files("fleet_tui").joinpath("presets.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    presets: dict[str, Preset] = {}
    for name, body in raw.items():
        # `extends = "generic"`: the preset's own patterns first, then the other preset's, for the
        # states of a program that could not be brought about (and so seen) when it was written.
        base = body.pop("extends", None)
        if base is not None:
            inherited = presets[base].patterns.model_dump()
            own = body.get("patterns", {})
            body["patterns"] = {k: [*own.get(k, []), *inherited[k]] for k in inherited}
        presets[name] = Preset.model_validate(body)
    return presets


BUILTIN_PRESETS: dict[str, Preset] = _load_builtin()
