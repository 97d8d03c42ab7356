"""A doer's reviewer: a named [reviewer.<name>] or an inline table, resolved into an agent."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from fleet_tui.errors import SpecError
from fleet_tui.presets import Preset, check_template
from fleet_tui.spec.file import SLUG_RE, AgentSpec, FleetFile, ReviewSpec
from fleet_tui.spec.messages import describe
from fleet_tui.spec.resolved import Agent


def reviewer_of(
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
    review, key = _review_table(parsed, spec, file, f"{where}.review")
    preset_name, preset = _review_preset(review, presets, file, key)
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
        review_prompt=_instructions(review, file, key, base_dir),
    )


def _review_table(parsed: FleetFile, spec: AgentSpec, file: str, key: str) -> tuple[ReviewSpec, str]:
    """The doer's review table, and the key path its problems are reported under."""
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
        return parsed.reviewer[spec.review], f"reviewer.{spec.review}"
    try:
        return ReviewSpec.model_validate(spec.review), key
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        sub = ".".join(str(p) for p in loc)
        raise SpecError(
            file, key + (f".{sub}" if sub else ""), describe({**first, "loc": ("x", 0, "review", *loc)})
        ) from None


def _review_preset(review: ReviewSpec, presets: dict[str, Preset], file: str, key: str) -> tuple[str, Preset]:
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
    return preset_name, preset


def _instructions(review: ReviewSpec, file: str, key: str, base_dir: Path) -> str:
    """The person's review instructions: inline text, or a file beside the fleet file."""
    if review.prompt is not None and review.prompt_file is not None:
        raise SpecError(file, key, "give at most one of `prompt` (text) or `prompt_file` (a path)")
    if review.prompt_file is None:
        return review.prompt or ""
    path = (base_dir / review.prompt_file).resolve()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SpecError(file, f"{key}.prompt_file", f"cannot read {path}: {reason}") from None
