"""The person's own settings, for every fleet: `settings.toml` in the platform's config folder
(`~/.config/fleet-tui/` on Linux, `~/Library/Application Support/fleet-tui/` on macOS).

```toml
theme = "nord"                 # any Textual theme; the command palette's choice is saved here
sort = "status"                # fleet | status | attention | name | changes
notify = true                  # notifications when an agent needs attention (default: the fleet file's)
bell = false                   # the terminal bell, likewise
[keymap]                       # binding id = keys (`fleet-tui keys` lists the ids)
"steer.kill" = "K"
"diff" = "d,enter"
```

A broken file gets one message naming the file, the key and what was expected, like the fleet
file. Saving edits the file in place (tomlkit), so the person's comments stay.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fleet_tui.errors import SpecError

SETTINGS_FILE = "settings.toml"
ENV_FILE = "FLEET_TUI_SETTINGS"  # another settings file (tests, or a person's second set)
SORTS = ("fleet", "status", "attention", "name", "changes")
Sort = Literal["fleet", "status", "attention", "name", "changes"]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    theme: str | None = None
    sort: Sort = "fleet"
    notify: bool | None = None
    bell: bool | None = None
    keymap: dict[str, str] = Field(default_factory=dict)

    @field_validator("keymap")
    @classmethod
    def _keys(cls, keymap: dict[str, str]) -> dict[str, str]:
        for binding, keys in keymap.items():
            if not [k for k in keys.split(",") if k.strip()]:
                raise ValueError(f'no key given for {binding!r}: write e.g. {binding!r} = "ctrl+k"')
        return keymap


def settings_path() -> Path:
    override = os.environ.get(ENV_FILE)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path("fleet-tui") / SETTINGS_FILE


def _describe(error: dict[str, Any]) -> tuple[str, str]:
    where = ".".join(str(p) for p in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        known = ", ".join(k for k in Settings.model_fields)
        return where, f"unknown key (expected one of: {known})"
    if kind == "literal_error":
        return where, f"expected one of: {', '.join(SORTS)}"
    return where, str(error["msg"]).removeprefix("Value error, ")


def parse_settings(text: str, file: str) -> Settings:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(file, "", f"not valid TOML: {exc}") from None
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        where, problem = _describe(dict(exc.errors()[0]))
        raise SpecError(
            file, where, problem, "fix or delete that line; fleet-tui's README lists the settings"
        ) from None


def load_settings(path: Path | None = None) -> Settings:
    """The settings, or the defaults when there is no file (SpecError for a broken one)."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise SpecError(str(path), "", f"cannot be read: {exc.strerror}") from None
    return parse_settings(text, str(path))


def save_setting(key: str, value: str | bool, path: Path | None = None) -> Path:
    """Set one top-level setting, keeping the rest of the file (comments included) as it was."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = "# fleet-tui settings (see fleet-tui's README). Written by the dashboard too.\n"
    doc = tomlkit.parse(text)
    doc[key] = value
    new = tomlkit.dumps(doc)
    parse_settings(new, str(path))  # never write a file that would not load
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(path)
    return path
