"""How a validation error is worded: where in the fleet file it is, and what is wrong there."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from fleet_tui.presets import Preset, StatusPatterns
from fleet_tui.spec.file import AgentSpec, FleetFile, FleetSettings, ReviewSpec


def location(loc: tuple[int | str, ...], raw: dict[str, Any]) -> str:
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


def describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(tuple(error["loc"]))
        return "unknown key" + (f" (expected one of: {', '.join(known)})" if known else "")
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")
