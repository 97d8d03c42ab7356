"""Presets as data: overrides, custom presets, the launcher's PATH and environment, missing programs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from helpers import wait_for

from fleet_tui.engine.actions import up
from fleet_tui.errors import EnvironmentProblem, SpecError
from fleet_tui.presets import BUILTIN_PRESETS, merge_preset, render_template
from fleet_tui.spec import parse_fleet

AGENT = '[[agent]]\nname = "a"\ntask = "t"\nscope = ["src/**"]\n'


def test_builtin_presets_cover_the_agents_people_run() -> None:
    assert {"claude", "codex", "gemini", "aider", "shell"} <= set(BUILTIN_PRESETS)
    for name, preset in BUILTIN_PRESETS.items():
        assert preset.command, name
        assert preset.patterns.waiting, f"{name} has no waiting patterns"


def test_override_merges_env_and_patterns_and_keeps_the_rest() -> None:
    claude = BUILTIN_PRESETS["claude"]
    merged = merge_preset(claude, {"env": {"EXTRA": "1"}, "patterns": {"idle": ["^READY$"]}})
    assert merged.env == {**claude.env, "EXTRA": "1"}
    assert merged.patterns.idle == ("^READY$",)
    assert merged.patterns.waiting == claude.patterns.waiting
    assert merged.command == claude.command


def test_fleet_file_defines_its_own_preset() -> None:
    text = (
        '[preset.mytool]\nprogram = "sh"\ncommand = "mytool --task {prompt_file}"\n'
        '[preset.mytool.patterns]\nwaiting = ["Proceed\\\\?"]\n' + AGENT + 'preset = "mytool"\n'
    )
    spec = parse_fleet(text, "fleet.toml", Path("."))
    agent = spec.agents[0]
    assert agent.preset_name == "mytool"
    assert agent.preset.patterns.waiting == ("Proceed\\?",)


@pytest.mark.parametrize(
    ("preset", "where", "expected"),
    [
        ('[preset.x]\ncommand = "run {task}"\n', "preset.x", "unknown placeholder {task}"),
        ('[preset.x]\ncommand = "run"\nbogus = 1\n', "preset.x.bogus", "unknown key"),
        (
            '[preset.x]\ncommand = "run"\n[preset.x.env]\n"X; touch PWNED" = "1"\n',
            "preset.x.env",
            "not an environment variable name",
        ),
        (
            '[preset.x]\ncommand = "run"\n[preset.x.patterns]\nidle = ["(unclosed"]\n',
            "preset.x.patterns",
            "bad regular expression",
        ),
    ],
)
def test_bad_presets_get_one_clear_error(preset: str, where: str, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_fleet(preset + AGENT + 'preset = "x"\n', "fleet.toml", Path("."))
    assert info.value.where.startswith(where)
    assert expected in info.value.problem


def test_shell_variables_are_not_placeholders() -> None:
    assert render_template('echo "${HOME:-x}" {worktree}', {"worktree": "'/w'"}) == "echo \"${HOME:-x}\" '/w'"


def test_missing_program_is_named_at_plan_and_up(make_fleet, monkeypatch) -> None:
    fleet = make_fleet(
        [{"name": "ghost", "preset": "ghost", "command": "ghost-agent {prompt_file}"}],
        preamble='[preset.ghost]\nprogram = "fleet-no-such-program"\ncommand = "x"\n',
    )
    path = fleet.spec.path
    with pytest.raises(EnvironmentProblem) as info:
        up(fleet)
    message = str(info.value)
    assert "fleet-no-such-program" in message and "'ghost'" in message
    assert not fleet.tmux.session_exists(fleet.session), "nothing half-done"
    assert not fleet.layout.worktree("ghost").exists(), "nothing half-done"
    result = subprocess.run(
        ["fleet-tui", "-f", str(path), "plan"],
        cwd=fleet.root,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(Path(os.sys.executable).parent) + os.pathsep + os.environ["PATH"]},
    )
    assert result.returncode == 0  # plan shows the plan and warns; only up refuses
    assert "warning: not installed" in result.stderr
    assert "fleet-no-such-program" in result.stderr and "Traceback" not in result.stderr


def test_every_missing_program_is_named_at_once_including_a_commands_own(make_fleet) -> None:
    fleet = make_fleet(
        [
            {"name": "own", "command": "alsonotthere --task {prompt_file}"},
            {"name": "ghost", "preset": "ghost"},
            {"name": "fine", "command": 'cat {prompt_file}; exec "${SHELL:-/bin/sh}"'},
        ],
        preamble='[preset.ghost]\nprogram = "fleet-no-such-program"\ncommand = "x"\n',
    )
    with pytest.raises(EnvironmentProblem) as info:
        up(fleet)
    message = str(info.value)
    assert "'own' (its command) needs 'alsonotthere'" in message
    assert "'ghost' (preset 'ghost') needs 'fleet-no-such-program'" in message
    assert "fine" not in message


def test_launcher_sets_path_and_preset_env_itself(make_fleet, monkeypatch, tmp_path) -> None:
    # A tmux server started with a bare PATH (no venv) and none of the preset's variables.
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    out = tmp_path / "seen.txt"
    command = f'printf "%s|%s\\n" "$FLEET_TEST_VAR" "$(command -v fleet-fake-agent)" > {out}; sleep 60'
    fleet = make_fleet(
        [{"name": "envy", "preset": "withenv", "command": command}],
        preamble='[preset.withenv]\ncommand = "x"\n[preset.withenv.env]\nFLEET_TEST_VAR = "from-preset"\n',
    )
    up(fleet)
    seen = wait_for(lambda: out.exists() and out.read_text().strip(), what="agent output")
    var, found = seen.split("|")
    assert var == "from-preset"
    assert found.endswith("/fleet-fake-agent"), "fleet-tui's own bin folder is on the agent's PATH"


def test_an_unknown_program_gets_the_generic_preset() -> None:
    from fleet_tui.spec import default_preset

    presets = BUILTIN_PRESETS
    assert default_preset(None, presets) == "shell"
    assert default_preset("mytool run {prompt_file}", presets) == "generic"
    assert default_preset("opencode --prompt x", presets) == "opencode"
    assert default_preset("FOO=1 env exec /opt/bin/crush", presets) == "generic"
    assert default_preset('bash -c "make test"', presets) == "shell"
    assert default_preset("fleet-fake-agent --script s.txt", presets) == "shell"
    assert default_preset('claude --model x "$(cat {prompt_file})"', presets) == "claude"
    assert default_preset("unbalanced 'quote", presets) == "shell"


@pytest.mark.parametrize(
    ("preset", "screen"),
    [
        ("codex", "  Finish signing in via your browser\n\n  Press esc to cancel\n"),
        ("gemini", "  Please visit the URL to authorize.\n  Enter the authorization code: \n"),
        ("aider", "Login to OpenRouter or create a free account? (Y)es/(N)o [Yes]: "),
        ("claude", " Login\n  Paste code here if prompted >\n"),
        ("generic", "Enter your API key: "),
        ("generic", "  Finish signing in via your browser … Press esc to cancel\n"),
        ("generic", "Do you trust the files in this folder?\n❯ 1. Yes\n  2. No\n"),
    ],
)
def test_sign_in_and_key_prompts_are_waiting(preset: str, screen: str) -> None:
    from fleet_tui.models import Status
    from fleet_tui.status import classify_screen

    verdict = classify_screen(screen, BUILTIN_PRESETS[preset])
    assert verdict is not None and verdict.status == Status.WAITING, (preset, verdict)
