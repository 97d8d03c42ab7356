"""Reading a fleet file: the text (only from a small regular file), the TOML, the one SpecError."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from fleet_tui.errors import SpecError
from fleet_tui.spec.file import FleetFile
from fleet_tui.spec.messages import describe, location
from fleet_tui.spec.resolve import resolve
from fleet_tui.spec.resolved import FleetSpec
from fleet_tui.spec.textfile import read_text_file


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
        raise SpecError(file, location(tuple(first["loc"]), raw), describe(dict(first))) from None
    return resolve(parsed, file, base_dir)


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
