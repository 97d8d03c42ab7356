"""The pipeline's part of the fleet file: [[task]], max_agents, review, done_when, max_rounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet_tui.errors import SpecError
from fleet_tui.scope import Scope
from fleet_tui.spec import load_fleet


def entry(table: str, name: str, **extra: str) -> str:
    lines = f'[[{table}]]\nname = "{name}"\ntask = "do {name}"\nscope = ["src/**"]\n'
    return lines + "".join(f"{k} = {v}\n" for k, v in extra.items())


def load(tmp_path: Path, text: str):
    path = tmp_path / "fleet.toml"
    path.write_text(text, encoding="utf-8")
    return load_fleet(path)


def test_tasks_queue_after_agents_and_may_depend_on_them(tmp_path: Path) -> None:
    text = (
        "[fleet]\nmax_agents = 2\n"
        + entry("task", "t1", depends_on='["a1"]')
        + entry("agent", "a1")
        + entry("task", "t2", done_when='["tests pass", "no new dependency"]', max_rounds="1")
    )
    spec = load(tmp_path, text)
    assert spec.settings.max_agents == 2
    assert spec.names == ["a1", "t1", "t2"]  # agents first, then tasks, each in file order
    assert [a.kind for a in spec.agents] == ["agent", "task", "task"]
    assert spec.agent("t2").done_when == ("tests pass", "no new dependency")
    assert spec.agent("t2").max_rounds == 1
    assert spec.agent("a1").max_rounds == 2  # the default
    assert spec.launch_order() == ["a1", "t1", "t2"]


def test_a_fleet_of_tasks_only_is_valid(tmp_path: Path) -> None:
    spec = load(tmp_path, entry("task", "only"))
    assert spec.names == ["only"] and spec.agent("only").branch == "fleet/only"


def test_inline_and_named_reviewers_become_reviewer_agents(tmp_path: Path) -> None:
    (tmp_path / "review.md").write_text("Check the error handling.\n", encoding="utf-8")
    text = (
        entry("agent", "api", review='{ preset = "shell", prompt_file = "review.md" }')
        + entry("task", "docs", review='"strict"')
        + '[reviewer.strict]\ncommand = "echo review {prompt_file}"\nprompt = "Be strict."\n'
    )
    spec = load(tmp_path, text)
    assert spec.names == ["api", "docs", "api-review", "docs-review"]
    assert [a.name for a in spec.doers] == ["api", "docs"]
    api_review = spec.agent("api-review")
    assert api_review.is_reviewer and api_review.reviews == "api"
    assert api_review.review_prompt == "Check the error handling.\n"
    assert spec.agent("api").review == "api-review"
    docs_review = spec.agent("docs-review")
    assert docs_review.preset.command == "echo review {prompt_file}"
    assert docs_review.review_prompt == "Be strict."
    assert "anything/at/all.py" in Scope(docs_review.scope)  # a reviewer never drifts: nothing it merges


# id -> (file text, key path in the message, words saying what was expected)
BAD: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "max-agents-zero": (
        "[fleet]\nmax_agents = 0\n" + entry("task", "t"),
        "fleet.max_agents",
        ("greater than or equal to 1",),
    ),
    "max-rounds-negative": (
        entry("task", "t", max_rounds="-1"),
        "task[0] (t).max_rounds",
        ("greater than or equal to 0",),
    ),
    "unknown-task-key": (
        entry("task", "t", revew='"x"'),
        "task[0] (t).revew",
        ("unknown key", "review", "done_when", "max_rounds"),
    ),
    "duplicate-across-agent-and-task": (
        entry("agent", "x") + entry("task", "x"),
        "task[0] (x).name",
        ("duplicate agent name 'x'",),
    ),
    "unknown-named-reviewer": (
        entry("task", "t", review='"strict"') + '[reviewer.lax]\npreset = "shell"\n',
        "task[0] (t).review",
        ("'strict' names no reviewer", "reviewers: lax", "[reviewer.strict]"),
    ),
    "inline-review-unknown-key": (
        entry("agent", "a", review='{ preset = "shell", promt = "x" }'),
        "agent[0] (a).review.promt",
        ("unknown key", "prompt_file"),
    ),
    "named-reviewer-unknown-key": (
        entry("agent", "a", review='"r"') + '[reviewer.r]\ncomand = "x"\n',
        "reviewer.r.comand",
        ("unknown key", "command"),
    ),
    "review-unknown-preset": (
        entry("agent", "a", review='{ preset = "gpt" }'),
        "agent[0] (a).review.preset",
        ("unknown preset 'gpt'", "known presets"),
    ),
    "review-not-a-table": (
        entry("agent", "a", review="3"),
        "agent[0] (a).review",
        ("expected the name of a [reviewer.<name>], or a table",),
    ),
    "review-prompt-file-missing": (
        entry("agent", "a", review='{ prompt_file = "nope.md" }'),
        "agent[0] (a).review.prompt_file",
        ("cannot read", "nope.md"),
    ),
    "review-prompt-and-file": (
        entry("agent", "a", review='{ prompt = "x", prompt_file = "y.md" }'),
        "agent[0] (a).review",
        ("at most one of `prompt`",),
    ),
    "review-bad-placeholder": (
        entry("agent", "a", review='{ command = "run {diff}" }'),
        "agent[0] (a).review.command",
        ("unknown placeholder {diff}",),
    ),
    "reviewer-name-taken": (
        entry("agent", "a", review='{ preset = "shell" }') + entry("agent", "a-review"),
        "agent[0] (a).review",
        ("'a-review'", "already an agent's name"),
    ),
    "empty-criterion": (
        entry("task", "t", done_when='["tests pass", "  "]'),
        "task[0] (t).done_when",
        ("an acceptance criterion is empty",),
    ),
    "task-depends-on-nobody": (
        entry("task", "t", depends_on='["ghost"]'),
        "task[0] (t).depends_on",
        ("'ghost' names no agent",),
    ),
    "task-cycle": (
        entry("task", "t1", depends_on='["t2"]') + entry("task", "t2", depends_on='["t1"]'),
        "task[0] (t1).depends_on",
        ("dependency cycle: t1 -> t2 -> t1",),
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_pipeline_settings_give_one_clean_message(case: str, tmp_path: Path) -> None:
    text, where, expected = BAD[case]
    with pytest.raises(SpecError) as info:
        load(tmp_path, text)
    error = info.value
    assert error.where == where, str(error)
    for words in expected:
        assert words in str(error), str(error)
    assert "pydantic" not in str(error).lower() and "ReviewSpec" not in str(error)
