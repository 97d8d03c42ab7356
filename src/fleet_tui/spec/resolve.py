"""From the file as written to the fleet: task texts read, presets chosen and overridden, names,
dependencies and reviewers checked against each other."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from pydantic import ValidationError

from fleet_tui.errors import SpecError
from fleet_tui.presets import BUILTIN_PRESETS, Preset, check_template, merge_preset
from fleet_tui.spec.file import FLEET_FILE, AgentSpec, FleetFile
from fleet_tui.spec.messages import describe
from fleet_tui.spec.resolved import Agent, FleetSpec, find_cycle
from fleet_tui.spec.reviewer import reviewer_of
from fleet_tui.spec.textfile import read_text_file

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


def resolve(parsed: FleetFile, file: str, base_dir: Path) -> FleetSpec:
    """Every [[agent]] and [[task]] resolved into an Agent, their reviewers after them; the first
    problem found, in file order, is the one SpecError."""
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
        _check_unique(spec.name, file, where, where_of, folded)
        where_of[spec.name] = where
        folded[spec.name.casefold()] = spec.name
        agent, reviewer = _doer(parsed, table, spec, names, presets, file, where, base_dir)
        agents.append(agent)
        if reviewer is not None:
            reviewers.append(reviewer)
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


def _check_unique(name: str, file: str, where: str, where_of: dict[str, str], folded: dict[str, str]) -> None:
    if name in where_of:
        raise SpecError(file, f"{where}.name", f"duplicate agent name {name!r}")
    twin = folded.get(name.casefold())
    if twin is not None:
        raise SpecError(
            file,
            f"{where}.name",
            f"{name!r} differs from {twin!r} only by case: their branches and folders "
            "would collide on a case-insensitive filesystem",
            "give one of them another name",
        )


def _doer(
    parsed: FleetFile,
    table: str,
    spec: AgentSpec,
    names: list[str],
    presets: dict[str, Preset],
    file: str,
    where: str,
    base_dir: Path,
) -> tuple[Agent, Agent | None]:
    """One [[agent]] or [[task]] as an Agent, and its reviewer if it has one."""
    task = _task_text(spec, file, where, base_dir)
    for dep in spec.depends_on:
        if dep not in names:
            raise SpecError(file, f"{where}.depends_on", f"{dep!r} names no agent (agents: {names})")
        if dep == spec.name:
            raise SpecError(file, f"{where}.depends_on", "an agent cannot depend on itself")
    preset_name, preset, restart_defaulted = _doer_preset(spec, presets, file, where)
    key = "task" if spec.task is not None else "task_file"
    _check_argv_task(task, preset.command, file, f"{where}.{key}")
    idle_after = spec.idle_after or parsed.fleet.idle_after
    reviewer = reviewer_of(parsed, spec, presets, file, where, base_dir, idle_after)
    agent = Agent(
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
    return agent, reviewer


def _doer_preset(
    spec: AgentSpec, presets: dict[str, Preset], file: str, where: str
) -> tuple[str, Preset, bool]:
    """The preset's name, the preset with the agent's own commands in it, and whether the restart
    command was defaulted from `command`."""
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
    return preset_name, preset, restart_defaulted


# `"$(cat {prompt_file})"` hands the whole task over as one command-line argument, and Linux refuses
# any single argument over 128 KiB ("Argument list too long"): such a task could never start.
ARGV_TASK_MAX = 96 * 1024
AS_ONE_ARGUMENT = "$(cat {prompt_file})"


def _check_argv_task(task: str, command: str, file: str, where: str) -> None:
    size = len(task.encode("utf-8", "surrogateescape"))
    if AS_ONE_ARGUMENT in command and size > ARGV_TASK_MAX:
        raise SpecError(
            file,
            where,
            f"the task is {size // 1024} KiB, and the command passes it as one command-line argument "
            f"(at most {ARGV_TASK_MAX // 1024} KiB: Linux refuses longer ones)",
            "shorten the task (point it at a file in the repository for the details), or give a "
            "`command` that reads {prompt_file} itself",
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
                describe({**first, "loc": ("preset", name, *first["loc"])}),
            ) from None
        except ValueError as exc:
            raise SpecError(file, f"preset.{name}", str(exc)) from None
    return presets
