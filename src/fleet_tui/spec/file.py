"""The fleet file as written: `fleet.toml`'s tables as validated, frozen models (names, settings,
agents, tasks, reviewers), checked each on its own. How they resolve together is `resolve`'s job."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import pathspec
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from fleet_tui.presets import check_env_names

FLEET_FILE = "fleet.toml"
# \Z, not $: `$` also matches before a final newline, and "api\n" is no branch name.
SLUG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,47}\Z")
SLUG_HELP = (
    "use 1-48 letters, digits, '-' or '_', starting with a letter or digit "
    "(it becomes a branch fleet/<name>, a folder and a pane title)"
)


def _slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError(f"{value!r} is not a valid name: {SLUG_HELP}")
    return value


Slug = Annotated[str, AfterValidator(_slug)]


def _socket(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError(f"{value!r} is not a valid tmux socket name: use 1-48 letters, digits, '-' or '_'")
    return value


SocketName = Annotated[str, AfterValidator(_socket)]


def compile_scope(patterns: list[str]) -> pathspec.PathSpec[Any]:
    """Compile gitignore-style scope patterns (raises ValueError on a bad pattern)."""
    return pathspec.GitIgnoreSpec.from_lines(patterns)


class FleetSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Slug | None = None
    base: str | None = None
    worktree_root: str | None = None
    socket: SocketName = "fleet-tui"
    panes_per_window: int = Field(4, ge=1, le=16)
    idle_after: float = Field(15.0, gt=0, le=86400, allow_inf_nan=False)
    # A new status is shown once it has held this long (endings at once): no flicker between a
    # hook and the screen that disagree for a moment.
    status_hold: float = Field(1.0, ge=0, le=60, allow_inf_nan=False)
    bell: bool = True
    notify: bool = True  # dashboard notices, and desktop notifications from the supervisor
    # A shell command run by the supervisor when an agent needs a person; the event as JSON on stdin.
    on_attention: str | None = None
    # How many doers (agents and tasks) run at once; the rest wait for a free slot, in file order.
    max_agents: int | None = Field(None, ge=1, le=1000)

    @field_validator("worktree_root")
    @classmethod
    def _worktree_root(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip() or "\x00" in value:
            raise ValueError("expected a folder path (leave the key out for the default ../<repo>-fleet)")
        return value

    @field_validator("base")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or value != value.strip() or "\x00" in value):
            raise ValueError(f"{value!r} is not a branch name")
        return value


class ReviewSpec(BaseModel):
    """A separate verifier: an agent that reads a doer's work and writes a verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: str | None = None
    command: str | None = None
    prompt: str | None = None  # review instructions, added to the prompt fleet-tui builds
    prompt_file: str | None = None  # the same, from a file relative to the fleet file
    env: dict[str, str] = Field(default_factory=dict)
    idle_after: float | None = Field(None, gt=0, le=86400, allow_inf_nan=False)

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, str]) -> dict[str, str]:
        return check_env_names(env)

    @field_validator("command", "prompt")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("text may not contain NUL characters")
        return value


class AgentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Slug
    task: str | None = None
    task_file: str | None = None
    scope: list[str]
    preset: str | None = None
    command: str | None = None
    restart_command: str | None = None
    resume_command: str | None = None  # how `up` resumes it after `down` (else: a handoff)
    verify: str | None = None
    depends_on: list[Slug] = Field(default_factory=list)
    max_restarts: int = Field(2, ge=0, le=1000)
    restart_on: list[Literal["crashed", "exited", "idle", "context"]] = Field(default_factory=list)
    # "context" in restart_on: restart with a handoff once this much of the window is used (percent).
    context_limit: float = Field(80.0, gt=0, le=100, allow_inf_nan=False)
    idle_after: float | None = Field(None, gt=0, le=86400, allow_inf_nan=False)
    env: dict[str, str] = Field(default_factory=dict)
    # The name of a [reviewer.<name>], or an inline reviewer table (checked in _resolve, so a bad
    # one gets one message about the table, not one per member of a union).
    review: Any = None

    @field_validator("review")
    @classmethod
    def _review_shape(cls, value: Any) -> str | dict[str, Any] | None:
        if value is None or isinstance(value, (str, dict)):
            return value
        raise ValueError('expected the name of a [reviewer.<name>], or a table like { preset = "codex" }')

    done_when: list[str] = Field(default_factory=list)  # acceptance criteria, for the reviewer
    max_rounds: int = Field(2, ge=0, le=100)  # automatic verify/review retries before a person decides

    @field_validator("done_when")
    @classmethod
    def _criteria(cls, criteria: list[str]) -> list[str]:
        if any(not c.strip() for c in criteria):
            raise ValueError("an acceptance criterion is empty")
        return criteria

    @field_validator("scope")
    @classmethod
    def _scope_compiles(cls, patterns: list[str]) -> list[str]:
        meaningful = [p for p in patterns if p.strip() and not p.strip().startswith("#")]
        if not meaningful:
            raise ValueError("the scope is empty: give at least one gitignore-style pattern")
        if all(p.strip().startswith("!") for p in meaningful):
            raise ValueError(
                "the scope only excludes files (every pattern starts with '!'): it matches nothing"
            )
        for pattern in meaningful:
            try:
                compile_scope([pattern])
            except Exception as exc:  # pathspec raises several types for a bad pattern
                raise ValueError(f"bad scope pattern {pattern!r}: {exc}") from None
        return patterns

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, str]) -> dict[str, str]:
        return check_env_names(env)

    @field_validator("task", "command", "restart_command", "resume_command", "verify")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("text may not contain NUL characters")
        return value

    @field_validator("verify")
    @classmethod
    def _verify_runs_something(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("an empty verify always passes: give a command, or leave the key out")
        return value


class FleetFile(BaseModel):
    """The file as written: settings, agents and preset overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fleet: FleetSettings = Field(default_factory=lambda: FleetSettings())
    agent: list[AgentSpec] = Field(default_factory=list)
    preset: dict[Slug, dict[str, Any]] = Field(default_factory=dict)
    task: list[AgentSpec] = Field(default_factory=list)  # like agents, started as slots free up
    reviewer: dict[Slug, ReviewSpec] = Field(default_factory=dict)
