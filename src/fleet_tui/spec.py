"""The fleet file: `fleet.toml` read into validated, frozen models.

Everything here is pure: reading the file and checking it against itself. Checks that need the
repository (does the base branch exist?) live in the engine.
"""

from __future__ import annotations

import heapq
import os
import re
import shlex
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import pathspec
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from fleet_tui.errors import SpecError
from fleet_tui.presets import (
    BUILTIN_PRESETS,
    Preset,
    StatusPatterns,
    check_env_names,
    check_template,
    merge_preset,
)

FLEET_FILE = "fleet.toml"
# \Z, not $: `$` also matches before a final newline, and "api\n" is no branch name.
SLUG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,47}\Z")
# Task files and the fleet file are read only from regular files, and only this much of them: a
# task is a prompt, and /dev/zero or a FIFO must not hang or exhaust the reader.
MAX_TEXT_FILE = 1024 * 1024
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


def read_text_file(path: Path, limit: int = MAX_TEXT_FILE) -> str:
    """A small UTF-8 text file, or ValueError/OSError saying why not (not a regular file, too big)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file (a device, FIFO or folder cannot be read as text)")
        if info.st_size > limit:
            raise ValueError(f"{info.st_size} bytes: larger than the {limit // 1024} KiB limit")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValueError(f"larger than the {limit // 1024} KiB limit")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None


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


class Agent(BaseModel):
    """One agent with everything resolved: its task text and its effective preset."""

    model_config = ConfigDict(frozen=True)

    name: str
    task: str
    scope: tuple[str, ...]
    preset: Preset
    preset_name: str
    verify: str | None
    depends_on: tuple[str, ...]
    max_restarts: int
    restart_on: tuple[str, ...]
    idle_after: float
    env: dict[str, str]
    context_limit: float = 80.0
    restart_defaulted: bool = False  # `command` given without `restart_command` (plan warns)
    kind: Literal["agent", "task", "reviewer"] = "agent"
    done_when: tuple[str, ...] = ()
    max_rounds: int = 2
    review: str | None = None  # the name of the reviewer agent that checks this one
    reviews: str | None = None  # for a reviewer: the doer it checks
    review_prompt: str = ""  # for a reviewer: the person's review instructions

    @property
    def is_reviewer(self) -> bool:
        return self.kind == "reviewer"

    @property
    def branch(self) -> str:
        return f"fleet/{self.name}"

    def scope_spec(self) -> pathspec.PathSpec[Any]:
        return compile_scope(list(self.scope))

    def in_scope(self, path: str) -> bool:
        return bool(self.scope_spec().match_file(path))


class FleetSpec(BaseModel):
    """A validated fleet file: settings plus resolved agents, in file order."""

    model_config = ConfigDict(frozen=True)

    path: Path
    settings: FleetSettings
    agents: tuple[Agent, ...]  # doers in file order ([[agent]] then [[task]]), then their reviewers

    def agent(self, name: str) -> Agent:
        for agent in self.agents:
            if agent.name == name:
                return agent
        from fleet_tui.errors import UnknownAgent

        raise UnknownAgent(name, [a.name for a in self.agents])

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.agents]

    @property
    def doers(self) -> tuple[Agent, ...]:
        """Agents whose work is merged: everything but reviewers."""
        return tuple(a for a in self.agents if not a.is_reviewer)

    def launch_order(self) -> list[str]:
        return launch_order({a.name: list(a.depends_on) for a in self.agents})


def launch_order(deps: dict[str, list[str]]) -> list[str]:
    """Dependencies first, otherwise file order (a stable topological sort, linear in the graph)."""
    index = {name: i for i, name in enumerate(deps)}
    waiting = {name: len({d for d in needs if d in deps}) for name, needs in deps.items()}
    dependents: dict[str, list[str]] = {name: [] for name in deps}
    for name, needs in deps.items():
        for dep in {d for d in needs if d in deps}:
            dependents[dep].append(name)
    ready = [index[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    names = list(deps)
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for nxt in dependents[name]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                heapq.heappush(ready, index[nxt])
    if len(order) < len(names):  # a cycle: validation rejects these, keep order total anyway
        placed = set(order)
        order.extend(name for name in names if name not in placed)
    return order


def _where(loc: tuple[int | str, ...], raw: dict[str, Any]) -> str:
    parts: list[str] = []
    for i, item in enumerate(loc):
        if isinstance(item, int):
            parts.append(f"[{item}]")
            if i == 1 and loc[0] in ("agent", "task"):
                name = _agent_name(raw, item, str(loc[0]))
                if name:
                    parts.append(f" ({name})")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _agent_name(raw: dict[str, Any], index: int, table: str = "agent") -> str | None:
    agents = raw.get(table)
    if isinstance(agents, list) and 0 <= index < len(agents) and isinstance(agents[index], dict):
        name = agents[index].get("name")
        return name if isinstance(name, str) else None
    return None


# Programs whose screen is a plain shell's: a command starting with one gets the shell preset.
SHELL_PROGRAMS = frozenset(
    {"sh", "bash", "zsh", "fish", "dash", "ksh", "cat", "echo", "printf", "true", "sleep", "make"}
    | {"python", "python3", "node", "npm", "npx", "uv", "pytest", "tail", "watch", "less", "vi", "vim"}
    # the scripted stand-in of tests and the demo prints like a shell tool, and its scripts say so
    | {"fleet-fake-agent"}
)


def default_preset(command: str | None, presets: dict[str, Preset]) -> str:
    """The preset of an agent that names none: the one whose program its command runs; the shell
    preset for shells and shell tools; else `generic`, which reads the habits agent CLIs share
    (an agent fleet-tui has never seen would read as working nearly always with the shell's)."""
    if not command:
        return "shell"
    try:
        words = shlex.split(command)
    except ValueError:
        return "shell"
    words = [w for w in words if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]  # VAR=value prefixes
    while words and words[0] in ("env", "exec", "command", "nohup"):
        words = words[1:]
    if not words:
        return "shell"
    program = os.path.basename(words[0])
    for name, preset in presets.items():
        if preset.program and preset.program == program:
            return name
    if program in SHELL_PROGRAMS or "{" in program or "$" in program:
        return "shell"
    return "generic" if "generic" in presets else "shell"


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed in the table that holds `loc` (for "unknown key" messages)."""
    path = [p for p in loc[:-1] if not isinstance(p, int)]
    models: dict[tuple[str, ...], type[BaseModel]] = {
        (): FleetFile,
        ("fleet",): FleetSettings,
        ("agent",): AgentSpec,
        ("task",): AgentSpec,
    }
    model = models.get(tuple(path))
    if model is None and (path[-1:] == ["review"] or (path[:1] == ["reviewer"] and len(path) == 2)):
        model = ReviewSpec
    if model is None and path[:1] == ["preset"]:
        model = Preset if len(path) == 2 else StatusPatterns if path[2:] == ["patterns"] else None
    return list(model.model_fields) if model else []


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(tuple(error["loc"]))
        return "unknown key" + (f" (expected one of: {', '.join(known)})" if known else "")
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def parse_fleet(text: str, file: str, base_dir: Path) -> FleetSpec:
    """Parse fleet-file text into a FleetSpec, or raise one SpecError."""
    text = text.removeprefix("\ufeff")  # a byte order mark some editors write: not TOML, harmless
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(file, "", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise SpecError(file, "", "not valid TOML: nested too deeply") from None
    try:
        parsed = FleetFile.model_validate(raw)
    except RecursionError:
        raise SpecError(file, "", "values nested too deeply") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SpecError(file, _where(tuple(first["loc"]), raw), _describe(dict(first))) from None
    return _resolve(parsed, file, base_dir)


def load_fleet(path: Path) -> FleetSpec:
    """Read and validate a fleet file."""
    file = str(path)
    try:
        text = read_text_file(path)
    except FileNotFoundError:
        raise SpecError(
            file, "", "no such file", "run `fleet-tui init` to write an example fleet.toml"
        ) from None
    except OSError as exc:
        raise SpecError(file, "", f"cannot read it: {exc.strerror}") from None
    except ValueError as exc:
        raise SpecError(file, "", f"cannot read it: {exc}") from None
    spec = parse_fleet(text, file, path.parent)
    return spec.model_copy(update={"path": path})


def _resolve(parsed: FleetFile, file: str, base_dir: Path) -> FleetSpec:
    presets = _presets(parsed, file)
    entries = [("agent", i, spec) for i, spec in enumerate(parsed.agent)]
    entries += [("task", i, spec) for i, spec in enumerate(parsed.task)]
    if not entries:
        raise SpecError(
            file, "agent", "no agents: declare at least one [[agent]] or [[task]]", "see `fleet-tui init`"
        )
    names = [spec.name for _, _, spec in entries]
    where_of: dict[str, str] = {}
    folded: dict[str, str] = {}  # casefolded name -> name
    agents: list[Agent] = []
    reviewers: list[Agent] = []
    for table, i, spec in entries:
        where = f"{table}[{i}] ({spec.name})"
        if spec.name in where_of:
            raise SpecError(file, f"{where}.name", f"duplicate agent name {spec.name!r}")
        twin = folded.get(spec.name.casefold())
        if twin is not None:
            raise SpecError(
                file,
                f"{where}.name",
                f"{spec.name!r} differs from {twin!r} only by case: their branches and folders "
                "would collide on a case-insensitive filesystem",
                "give one of them another name",
            )
        where_of[spec.name] = where
        folded[spec.name.casefold()] = spec.name
        task = _task_text(spec, file, where, base_dir)
        for dep in spec.depends_on:
            if dep not in names:
                raise SpecError(file, f"{where}.depends_on", f"{dep!r} names no agent (agents: {names})")
            if dep == spec.name:
                raise SpecError(file, f"{where}.depends_on", "an agent cannot depend on itself")
        preset_name = spec.preset or default_preset(spec.command, presets)
        if preset_name not in presets:
            raise SpecError(
                file,
                f"{where}.preset",
                f"unknown preset {preset_name!r}",
                f"known presets: {', '.join(sorted(presets))}; or define [preset.{preset_name}]",
            )
        preset = presets[preset_name]
        overrides = {
            k: v
            for k, v in (
                ("command", spec.command),
                ("restart_command", spec.restart_command),
                ("resume_command", spec.resume_command),
            )
            if v is not None
        }
        # A custom command with no restart command of its own restarts as itself, the handoff in
        # place of the task: the preset's restart (e.g. the plain shell's) would be another program.
        restart_defaulted = spec.command is not None and spec.restart_command is None
        if restart_defaulted:
            assert spec.command is not None
            overrides["restart_command"] = spec.command.replace("{prompt_file}", "{handoff_file}")
        if overrides:
            for key, template in overrides.items():
                try:
                    check_template(template)
                except ValueError as exc:
                    raise SpecError(file, f"{where}.{key}", str(exc)) from None
            preset = preset.model_copy(update=overrides)
        if not preset.command:
            raise SpecError(file, where, "no command: set `preset` or `command`")
        idle_after = spec.idle_after or parsed.fleet.idle_after
        reviewer = _reviewer(parsed, spec, presets, file, where, base_dir, idle_after)
        if reviewer is not None:
            reviewers.append(reviewer)
        agents.append(
            Agent(
                name=spec.name,
                task=task,
                scope=tuple(spec.scope),
                preset=preset,
                preset_name=preset_name,
                verify=spec.verify,
                depends_on=tuple(spec.depends_on),
                max_restarts=spec.max_restarts,
                restart_on=tuple(spec.restart_on),
                context_limit=spec.context_limit,
                idle_after=idle_after,
                env=dict(spec.env),
                restart_defaulted=restart_defaulted,
                kind="task" if table == "task" else "agent",
                done_when=tuple(spec.done_when),
                max_rounds=spec.max_rounds,
                review=reviewer.name if reviewer else None,
            )
        )
    for reviewer in reviewers:
        if reviewer.name in where_of:
            doer = reviewer.reviews or ""
            raise SpecError(
                file,
                f"{where_of[doer]}.review",
                f"{doer}'s reviewer is called {reviewer.name!r}, which is already an agent's name",
                "rename that agent: fleet-tui names a reviewer <agent>-review",
            )
    cycle = find_cycle({a.name: list(a.depends_on) for a in agents})
    if cycle:
        raise SpecError(
            file,
            f"{where_of[cycle[0]]}.depends_on",
            "dependency cycle: " + " -> ".join([*cycle, cycle[0]]),
        )
    return FleetSpec(path=base_dir / FLEET_FILE, settings=parsed.fleet, agents=(*agents, *reviewers))


def _reviewer(
    parsed: FleetFile,
    spec: AgentSpec,
    presets: dict[str, Preset],
    file: str,
    where: str,
    base_dir: Path,
    idle_after: float,
) -> Agent | None:
    """The reviewer agent of one doer: a named [reviewer.<name>] or an inline table."""
    if spec.review is None:
        return None
    key = f"{where}.review"
    if isinstance(spec.review, str):
        if not SLUG_RE.match(spec.review) or spec.review not in parsed.reviewer:
            known = ", ".join(sorted(parsed.reviewer)) or "none defined"
            raise SpecError(
                file,
                key,
                f"{spec.review!r} names no reviewer (reviewers: {known})",
                f"define [reviewer.{spec.review}] with a preset or a command, "
                'or write an inline review = { preset = "..." }',
            )
        review = parsed.reviewer[spec.review]
        key = f"reviewer.{spec.review}"
    else:
        try:
            review = ReviewSpec.model_validate(spec.review)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = tuple(first["loc"])
            sub = ".".join(str(p) for p in loc)
            raise SpecError(
                file, key + (f".{sub}" if sub else ""), _describe({**first, "loc": ("x", 0, "review", *loc)})
            ) from None
    preset_name = review.preset or "shell"
    if preset_name not in presets:
        raise SpecError(
            file,
            f"{key}.preset",
            f"unknown preset {preset_name!r}",
            f"known presets: {', '.join(sorted(presets))}; or define [preset.{preset_name}]",
        )
    preset = presets[preset_name]
    if review.command is not None:
        try:
            check_template(review.command)
        except ValueError as exc:
            raise SpecError(file, f"{key}.command", str(exc)) from None
        preset = preset.model_copy(update={"command": review.command})
    if not preset.command:
        raise SpecError(file, key, "no command: set `preset` or `command`")
    if review.prompt is not None and review.prompt_file is not None:
        raise SpecError(file, key, "give at most one of `prompt` (text) or `prompt_file` (a path)")
    instructions = review.prompt or ""
    if review.prompt_file is not None:
        path = (base_dir / review.prompt_file).resolve()
        try:
            instructions = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise SpecError(file, f"{key}.prompt_file", f"cannot read {path}: {reason}") from None
    return Agent(
        name=f"{spec.name}-review",
        task=f"Review the work of agent {spec.name}.",
        scope=("**",),  # a reviewer's changes are never merged: nothing it does is drift
        preset=preset,
        preset_name=preset_name,
        verify=None,
        depends_on=(),
        max_restarts=0,
        restart_on=(),
        idle_after=review.idle_after or idle_after,
        env=dict(review.env),
        kind="reviewer",
        reviews=spec.name,
        review_prompt=instructions,
    )


def _task_text(spec: AgentSpec, file: str, where: str, base_dir: Path) -> str:
    if (spec.task is None) == (spec.task_file is None):
        raise SpecError(file, where, "give exactly one of `task` (text) or `task_file` (a path)")
    if spec.task is not None:
        if not spec.task.strip():
            raise SpecError(file, f"{where}.task", "the task is empty")
        return spec.task
    assert spec.task_file is not None
    if "\x00" in spec.task_file or not spec.task_file.strip():
        raise SpecError(file, f"{where}.task_file", "expected a file path (relative to the fleet file)")
    path = (base_dir / spec.task_file).resolve()
    try:
        return read_text_file(path)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SpecError(file, f"{where}.task_file", f"cannot read {path}: {reason}") from None


def _presets(parsed: FleetFile, file: str) -> dict[str, Preset]:
    presets = dict(BUILTIN_PRESETS)
    for name, override in parsed.preset.items():
        try:
            presets[name] = merge_preset(presets.get(name), override)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise SpecError(
                file,
                f"preset.{name}" + (f".{loc}" if loc else ""),
                _describe({**first, "loc": ("preset", name, *first["loc"])}),
            ) from None
        except ValueError as exc:
            raise SpecError(file, f"preset.{name}", str(exc)) from None
    return presets


def find_cycle(deps: dict[str, list[str]]) -> list[str] | None:
    """Return one dependency cycle as a list of names, or None. Iterative: a chain of thousands of
    agents must not hit Python's recursion limit."""
    state: dict[str, int] = {}
    for root in deps:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(deps.get(root, [])))]
        while stack:
            node, pending = stack[-1]
            for dep in pending:
                if state.get(dep) == 1:
                    path = [name for name, _ in stack]
                    return path[path.index(dep) :]
                if dep in deps and dep not in state:
                    state[dep] = 1
                    stack.append((dep, iter(deps.get(dep, []))))
                    break
            else:
                stack.pop()
                state[node] = 2
    return None
