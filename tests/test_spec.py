"""Every bad fleet file gets ONE clean SpecError: the file, the key path and what was expected."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet_tui.cli import cli
from fleet_tui.engine.fleet import Fleet
from fleet_tui.errors import SpecError
from fleet_tui.spec import FleetSpec, load_fleet

AGENT = '[[agent]]\nname = "api"\ntask = "do it"\nscope = ["src/**"]\npreset = "shell"\n'
DOCS = '[[agent]]\nname = "docs"\ntask = "write"\nscope = ["docs/**"]\npreset = "shell"\n'


def agent(name: str = "api", **extra: str) -> str:
    lines = AGENT.replace('"api"', f'"{name}"')
    return lines + "".join(f"{k} = {v}\n" for k, v in extra.items())


# id -> (file text, key path in the message, words saying what was expected)
BAD_FILES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "toml-syntax": ('[fleet]\nname = "x"\n\n[[agent]\nname = "a"\n', "", ("not valid TOML", "line 4")),
    "toml-syntax-value": (AGENT + "max_restarts = \n", "", ("not valid TOML", "line 6")),
    "toml-duplicate-key": (AGENT + 'name = "b"\n', "", ("not valid TOML", "line 6")),
    "unknown-top-level-key": (
        'colour = "red"\n' + AGENT,
        "colour",
        ("unknown key", "fleet, agent, preset"),
    ),
    "unknown-fleet-key": (
        '[fleet]\nsokcet = "x"\n' + AGENT,
        "fleet.sokcet",
        ("unknown key", "socket", "panes_per_window"),
    ),
    "unknown-agent-key": (
        agent(scop='["x"]'),
        "agent[0] (api).scop",
        ("unknown key", "scope", "depends_on"),
    ),
    "duplicate-names": (AGENT + "\n" + AGENT, "agent[1] (api).name", ("duplicate agent name 'api'",)),
    "name-dotdot": (
        AGENT.replace('"api"', '"../x"'),
        "agent[0] (../x).name",
        ("not a valid name", "letters"),
    ),
    "name-space": (AGENT.replace('"api"', '"a b"'), "agent[0] (a b).name", ("not a valid name", "letters")),
    "name-dash-rf": (
        AGENT.replace('"api"', '"-rf"'),
        "agent[0] (-rf).name",
        ("not a valid name", "starting"),
    ),
    "name-missing": (
        '[[agent]]\ntask = "t"\nscope = ["x"]\n',
        "agent[0].name",
        ("required key is missing",),
    ),
    "empty-scope": (
        AGENT.replace('["src/**"]', "[]"),
        "agent[0] (api).scope",
        ("the scope is empty", "pattern"),
    ),
    "blank-scope": (
        AGENT.replace('["src/**"]', '["  ", "# only a comment"]'),
        "agent[0] (api).scope",
        ("the scope is empty",),
    ),
    "negation-only-scope": (
        AGENT.replace('["src/**"]', '["!src/**"]'),
        "agent[0] (api).scope",
        ("only excludes files", "matches nothing"),
    ),
    "bad-socket": (
        '[fleet]\nsocket = "../../etc/x"\n' + AGENT,
        "fleet.socket",
        ("not a valid tmux socket name",),
    ),
    "scope-not-a-list": (
        AGENT.replace('["src/**"]', '"src/**"'),
        "agent[0] (api).scope",
        ("valid list",),
    ),
    "unknown-preset": (
        AGENT.replace('"shell"', '"gpt"'),
        "agent[0] (api).preset",
        (
            "unknown preset 'gpt'",
            "known presets: aider, claude, cline, codex, copilot, gemini, generic, mistral-vibe, opencode",
        ),
    ),
    "dependency-cycle": (
        agent("api", depends_on='["docs"]') + DOCS + 'depends_on = ["api"]\n',
        "agent[0] (api).depends_on",
        ("dependency cycle: api -> docs -> api",),
    ),
    "depends-on-itself": (agent(depends_on='["api"]'), "agent[0] (api).depends_on", ("itself",)),
    "depends-on-nobody": (
        agent(depends_on='["ghost"]'),
        "agent[0] (api).depends_on",
        ("'ghost' names no agent", "api"),
    ),
    "no-agents": ('[fleet]\nname = "x"\n', "agent", ("no agents", "[[agent]] or [[task]]")),
    "task-and-task-file": (
        agent(task_file='"t.md"'),
        "agent[0] (api)",
        ("exactly one of `task`", "`task_file`"),
    ),
    "empty-task": (AGENT.replace('"do it"', '"  "'), "agent[0] (api).task", ("the task is empty",)),
    "task-file-missing": (
        AGENT.replace('task = "do it"', 'task_file = "nope.md"'),
        "agent[0] (api).task_file",
        ("cannot read", "nope.md"),
    ),
    "task-file-nul": (
        AGENT.replace('task = "do it"', 'task_file = "a\\u0000b"'),
        "agent[0] (api).task_file",
        ("expected a file path",),
    ),
    "command-unknown-placeholder": (
        agent(command='"run {prompt}"'),
        "agent[0] (api).command",
        ("unknown placeholder {prompt}", "{prompt_file}"),
    ),
    "panes-per-window-zero": (
        "[fleet]\npanes_per_window = 0\n" + AGENT,
        "fleet.panes_per_window",
        ("greater than or equal to 1",),
    ),
    "preset-unknown-key": (
        AGENT + "[preset.shell]\ncomand = 'x'\n",
        "preset.shell.comand",
        ("unknown key", "command"),
    ),
    "preset-bad-regex": (
        AGENT + "[preset.shell.patterns]\nwaiting = ['(']\n",
        "preset.shell.patterns.waiting",
        ("bad regular expression",),
    ),
    "env-name": (
        AGENT + '[agent.env]\n"1x" = "y"\n',
        "agent[0] (api).env",
        ("not an environment variable name",),
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_fleet_file_gives_one_clean_message(case: str, tmp_path: Path) -> None:
    text, where, expected = BAD_FILES[case]
    path = tmp_path / "fleet.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_fleet(path)
    error = info.value
    message = str(error)
    assert error.file == str(path)
    assert message.startswith(f"{path}: ")  # names the file
    assert error.where == where  # the key path
    if where:
        assert f": {where}: " in message
    for words in expected:  # what was expected
        assert words in message, message
    assert "Traceback" not in message and "pydantic" not in message.lower()
    assert error.exit_code == 2


def test_the_good_file_these_start_from_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(agent("api") + DOCS + 'depends_on = ["api"]\n', encoding="utf-8")
    spec = load_fleet(path)
    assert isinstance(spec, FleetSpec)
    assert spec.names == ["api", "docs"]
    assert spec.launch_order() == ["api", "docs"]
    assert spec.agent("api").branch == "fleet/api"


def test_task_file_is_read_relative_to_the_fleet_file(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "api.md").write_text("the task\nin a file\n", encoding="utf-8")
    path = tmp_path / "fleet.toml"
    path.write_text(AGENT.replace('task = "do it"', 'task_file = "tasks/api.md"'), encoding="utf-8")
    assert load_fleet(path).agent("api").task == "the task\nin a file\n"


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file") as info:
        load_fleet(tmp_path / "fleet.toml")
    assert info.value.hint and "fleet-tui init" in info.value.hint
    path = tmp_path / "fleet.toml"
    path.write_bytes(b"\xff\xfe" + AGENT.encode())
    with pytest.raises(SpecError, match="not UTF-8"):
        load_fleet(path)


def test_dependencies_launch_first_whatever_the_file_order(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(agent("api", depends_on='["docs"]') + DOCS, encoding="utf-8")
    assert load_fleet(path).launch_order() == ["docs", "api"]


# -- checks that need the repository ---------------------------------------------------------------


def test_base_branch_that_does_not_exist_via_fleet_open(repo: Path) -> None:
    path = repo / "fleet.toml"
    path.write_text('[fleet]\nbase = "develop"\n' + AGENT, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        Fleet.open(repo)
    assert info.value.where == "fleet.base"
    assert str(info.value).startswith(f"{path}: fleet.base: ")
    assert "branch 'develop' does not exist" in str(info.value)


def test_base_branch_defaults_to_the_current_branch(repo: Path) -> None:
    (repo / "fleet.toml").write_text(AGENT, encoding="utf-8")
    assert Fleet.open(repo / "src").base == "main"


def test_bad_files_through_the_cli_exit_2_without_traceback(repo: Path) -> None:
    runner = CliRunner()
    path = repo / "fleet.toml"
    for text, words in (
        ('[fleet]\nbase = "develop"\n' + AGENT, "fleet.base: branch 'develop' does not exist"),
        (AGENT + "\n" + AGENT, "agent[1] (api).name: duplicate agent name 'api'"),
        ("[[agent]\n", "not valid TOML"),
    ):
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(cli, ["plan", "-C", str(repo)])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        output = " ".join(result.output.split())  # rich may wrap long lines
        assert str(path) in output
        assert words in output
        assert "Traceback" not in output
        assert output.count("fleet-tui:") == 1


def test_detached_head_without_base_asks_for_one(repo: Path) -> None:
    (repo / "fleet.toml").write_text(AGENT, encoding="utf-8")
    subprocess.run(["git", "checkout", "-q", "--detach"], cwd=repo, check=True)
    with pytest.raises(SpecError) as info:
        Fleet.open(repo)
    assert info.value.where == "fleet.base"
    assert "detached HEAD" in info.value.problem
    assert info.value.hint and 'base = "main"' in info.value.hint
