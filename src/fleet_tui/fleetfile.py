"""Editing a fleet file the way a person would: one `[[agent]]` added or taken out, every other
line, comment and blank line kept as it was (tomlkit round-trips the document).

Pure text in, text out; the caller validates the result with `parse_fleet` before writing it.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from fleet_tui.errors import FleetError, SpecError

# The keys the add form and `fleet-tui add` write, in the order a person would write them.
AGENT_KEYS = (
    "name",
    "task",
    "task_file",
    "scope",
    "preset",
    "command",
    "restart_command",
    "verify",
    "depends_on",
)


def _document(text: str, file: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except Exception as exc:  # tomlkit raises its own ParseError subclasses
        raise SpecError(file, "", f"not valid TOML: {exc}") from None


def _agents(doc: tomlkit.TOMLDocument, file: str) -> AoT:
    agents = doc.get("agent")
    if agents is None:
        agents = tomlkit.aot()
        doc.append("agent", agents)
    if not isinstance(agents, AoT):
        raise SpecError(file, "agent", "`agent` must be a list of [[agent]] tables")
    return agents


def agent_names(text: str, file: str) -> list[str]:
    return [str(t.get("name", "")) for t in _agents(_document(text, file), file)]


HEADER_RE = re.compile(r"^\s*\[")
AGENT_HEADER_RE = re.compile(r"^\s*\[\[\s*agent\s*\]\]\s*(#.*)?$")
COMMENT_RE = re.compile(r"^\s*#")


def _render(fields: dict[str, Any]) -> str:
    """One `[[agent]]` table as a person would write it (empty fields left out)."""
    unknown = set(fields) - set(AGENT_KEYS)
    if unknown:
        raise FleetError(f"unknown agent keys: {', '.join(sorted(unknown))}")
    table = tomlkit.table()
    for key in AGENT_KEYS:
        value = fields.get(key)
        if value is None or value == "" or value == [] or value == ():
            continue
        if isinstance(value, str) and "\n" in value.strip():
            table[key] = tomlkit.string(value if value.endswith("\n") else value + "\n", multiline=True)
        elif isinstance(value, (list, tuple)):
            table[key] = list(value)
        else:
            table[key] = value
    doc = tomlkit.document()
    doc.append("agent", tomlkit.aot())
    doc["agent"].append(table)
    return tomlkit.dumps(doc)


def add_agent_text(text: str, fields: dict[str, Any], file: str) -> str:
    """`text` with one more `[[agent]]` appended at its end; every existing byte stays as it was."""
    doc = _document(text, file)
    agents = _agents(doc, file)
    name = str(fields.get("name", ""))
    if name in [str(t.get("name", "")) for t in agents]:
        raise FleetError(f"{file}: there is already an agent named {name!r}", "choose another name")
    block = _render(fields)
    result = text + ("" if not text or text.endswith("\n") else "\n") + ("\n" if text.strip() else "") + block
    expected = doc.unwrap()
    expected.setdefault("agent", []).append(_document(block, file).unwrap()["agent"][0])
    if _document(result, file).unwrap() != expected:  # e.g. the file ends inside an open table
        raise FleetError(f"{file}: could not add the agent without changing the rest of the file")
    return result


def remove_agent_text(text: str, name: str, file: str) -> str:
    """`text` without the `[[agent]]` named `name`, the comment lines right above it included;
    every other line stays as it was."""
    doc = _document(text, file)
    agents = _agents(doc, file)
    index = next((i for i, t in enumerate(agents) if isinstance(t, Table) and t.get("name") == name), None)
    if index is None:
        raise FleetError(f"{file} has no [[agent]] named {name!r}")
    expected = doc.unwrap()
    del expected["agent"][index]
    lines = text.splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if HEADER_RE.match(line)]
    agent_headers = [i for i in headers if AGENT_HEADER_RE.match(lines[i])]
    if len(agent_headers) == len(agents):  # else a header-like line sits in a string: fall back
        start = agent_headers[index]
        end = next((i for i in headers if i > start), len(lines))
        while end > start + 1 and COMMENT_RE.match(lines[end - 1]):  # the next table's comment
            end -= 1
        while start > 0 and COMMENT_RE.match(lines[start - 1]):  # this table's own comment
            start -= 1
        result = "".join(lines[:start] + lines[end:])
        with contextlib.suppress(SpecError):  # cut in the wrong place: not TOML any more
            if _document(result, file).unwrap() == expected:
                return result
    del agents[index]  # tomlkit's own edit: right, though a comment may move with a neighbour
    return tomlkit.dumps(doc)
