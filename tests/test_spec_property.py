"""Property test: whatever TOML (or garbage) reaches the loader, it returns a FleetSpec or one SpecError."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fleet_tui.errors import SpecError
from fleet_tui.presets import PLACEHOLDERS, render_template
from fleet_tui.spec import FleetSpec, parse_fleet

FILE = "/somewhere/fleet.toml"

# Text without surrogates (TOML files are UTF-8), with control characters, NUL and path tricks.
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),
    max_size=20,
) | st.sampled_from(["", "a", "../x", "-rf", "a b", "src/**", "!src/x", "\x00", "{prompt_file}", "x{y}"])

scalars = st.one_of(
    text,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=8,
)


def _string(value: str) -> str:
    encoded = json.dumps(value, ensure_ascii=False)
    return encoded.replace("\x7f", "\\u007f")


def _key(key: str) -> str:
    return _string(key)


def toml(value: Any) -> str:
    """Serialise one value as TOML (inline forms only)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def table(name: str, body: dict[str, Any], *, array: bool = False) -> str:
    header = f"[[{name}]]" if array else f"[{name}]"
    return header + "\n" + "".join(f"{_key(k)} = {toml(v)}\n" for k, v in body.items())


slugs = st.sampled_from(["api", "docs", "web", "a", "b-2", "../x", "-rf", "a b", ""])
AGENT_KEYS = {
    "name": slugs,
    "task": st.sampled_from(["do it", "", "  ", "x\x00y"]) | text,
    "task_file": st.sampled_from(["tasks/a.md", "", "\x00", "/dev/null", "/", "x" * 300]) | text,
    "scope": st.lists(st.sampled_from(["src/**", "", "# c", "!x", "[", "\\", "**/*.py"]) | text, max_size=3),
    "preset": st.sampled_from(["shell", "claude", "nope", "mine", ""]),
    "command": st.sampled_from(["echo {prompt_file}", "x {nope}", "{", "cat {worktree}"]) | text,
    "restart_command": st.sampled_from(["echo {handoff_file}", "x {nope}"]) | text,
    "verify": text,
    "depends_on": st.lists(slugs, max_size=3),
    "max_restarts": st.integers(-3, 2000),
    "restart_on": st.lists(st.sampled_from(["crashed", "exited", "idle", "x"]), max_size=3),
    "idle_after": st.floats(allow_nan=True, allow_infinity=True) | st.integers(-5, 10**6),
    "env": st.dictionaries(st.sampled_from(["A", "1x", "PATH", "", "a-b"]), text, max_size=3),
}
FLEET_KEYS = {
    "name": slugs,
    "base": text,
    "worktree_root": text,
    "socket": slugs,
    "panes_per_window": st.integers(-2, 40),
    "idle_after": st.floats(allow_nan=True, allow_infinity=True),
    "bell": st.booleans(),
    "notify": st.booleans(),
}
PRESET_KEYS = {
    "command": st.sampled_from(["echo {prompt_file}", "x {nope}", ""]) | text,
    "program": text,
    "bottom_lines": st.integers(-1, 300),
    "exit_keys": st.lists(text, max_size=2),
    "env": st.dictionaries(text, text, max_size=2),
    "patterns": st.dictionaries(
        st.sampled_from(["waiting", "idle", "working", "error", "other"]),
        st.lists(st.sampled_from(["(", "x$", "[y/n]", "\\"]) | text, max_size=2),
        max_size=3,
    ),
}


def fields(
    known: dict[str, st.SearchStrategy[Any]], valid: dict[str, Any], swap: tuple[str, str] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """A table's keys: a valid table with one or two keys changed or dropped (most of the time,
    so the deeper checks are reached), or any of the known keys with any values, plus stray keys."""

    @st.composite
    def mutated(draw: st.DrawFn) -> dict[str, Any]:
        body = dict(valid)
        if swap and draw(st.integers(0, 3)) == 0:  # e.g. `task_file` instead of `task`
            del body[swap[0]]
            body[swap[1]] = draw(known[swap[1]] | values)
        for key in draw(st.lists(st.sampled_from([*known, "unknown"]), max_size=2, unique=True)):
            if key in body and draw(st.booleans()):
                del body[key]
            else:
                body[key] = draw(known.get(key, values) | values)
        return body

    anything = st.fixed_dictionaries({}, optional={k: s | values for k, s in known.items()})
    stray = st.dictionaries(st.sampled_from([*known, "unknown", ""]) | text, values, max_size=4)
    modes = {"mutated": mutated(), "anything": anything, "stray": stray}
    return st.sampled_from(["mutated"] * 6 + ["anything", "stray"]).flatmap(modes.__getitem__)


NAMES = ["api", "docs", "web"]


@st.composite
def fleet_files(draw: st.DrawFn) -> str:
    parts: list[str] = []
    if draw(st.sampled_from([False] * 7 + [True])):  # a stray top-level key, now and then
        parts.append(f"stray = {toml(draw(values))}\n")
    if draw(st.booleans()):
        parts.append(table("fleet", draw(fields(FLEET_KEYS, {"name": "demo", "panes_per_window": 2}))))
    for i in range(draw(st.sampled_from([1, 2, 3, 1, 0]))):
        valid = {"name": NAMES[i], "task": "do it", "scope": ["src/**"], "preset": "shell"}
        if i:
            valid["depends_on"] = [NAMES[i - 1]]
        parts.append(table("agent", draw(fields(AGENT_KEYS, valid, ("task", "task_file"))), array=True))
    for _ in range(draw(st.integers(0, 1))):
        name = draw(st.sampled_from(["shell", "mine", "bad name"]))
        preset = draw(fields(PRESET_KEYS, {"command": "echo {prompt_file}"}))
        parts.append(table(f"preset.{_key(name)}", preset))
    parts = draw(st.permutations(parts))
    return "\n".join(parts)


def check(source: str, base_dir: Path) -> None:
    try:
        result = parse_fleet(source, FILE, base_dir)
    except SpecError as exc:
        event("SpecError at " + exc.where.split(".")[-1].split("[")[0][:20])
        assert exc.file == FILE
        assert str(exc).startswith(FILE)
        assert exc.problem.strip()
        return
    assert isinstance(result, FleetSpec)
    assert result.agents
    # A valid file can be launched: every command template renders.
    values = {name: f"/q/{name}" for name in PLACEHOLDERS}
    for agent in result.agents:
        render_template(agent.preset.command, values)
        render_template(agent.preset.restart_command or "", values)
    event("valid fleet file")


SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(source=fleet_files())
def test_random_fleet_files_give_a_spec_or_one_spec_error(source: str, tmp_path: Path) -> None:
    check(source, tmp_path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    source=st.text(max_size=200)
    | st.lists(
        st.sampled_from(["[", "]", "[[agent]]", "=", '"', "name", "\n", "scope = [", "'''", "\\u", "#"]),
        max_size=30,
    ).map("".join)
)
def test_garbage_text_gives_a_spec_error_or_a_spec(source: str, tmp_path: Path) -> None:
    check(source, tmp_path)


def test_the_generator_reaches_valid_files(tmp_path: Path) -> None:
    """The property is only worth something if valid files are among what it throws."""
    valid = table("agent", {"name": "api", "task": "do it", "scope": ["src/**"]}, array=True)
    assert isinstance(parse_fleet(valid, FILE, tmp_path), FleetSpec)
