"""Errors a person can cause or fix: each carries one message saying what is wrong and what to do."""

from __future__ import annotations


class FleetError(Exception):
    """A problem the person can act on. The CLI prints `message` (and `hint`) and exits `exit_code`."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  {self.hint}" if self.hint else self.message


class SpecError(FleetError):
    """The fleet file is invalid: names the file, the key path and what was expected."""

    def __init__(self, file: str, where: str, problem: str, hint: str | None = None) -> None:
        location = f"{file}: {where}" if where else file
        super().__init__(f"{location}: {problem}", hint)
        self.file = file
        self.where = where
        self.problem = problem


class EnvironmentProblem(FleetError):
    """Something missing around fleet-tui: tmux, git, a repository, an agent program."""


class UnknownAgent(FleetError):
    """A command named an agent the fleet does not have."""

    def __init__(self, name: str, known: list[str]) -> None:
        listed = ", ".join(known) if known else "(none)"
        super().__init__(f"no agent named {name!r} in this fleet", f"agents: {listed}")


class ActionRefused(FleetError):
    """A steering action was refused before it changed anything."""

    exit_code = 1


class ExternalCommandFailed(FleetError):
    """git or tmux returned an error we did not expect."""


class FleetDown(ActionRefused):
    """An action needs an agent's tmux pane and there is none: the fleet is not up."""

    exit_code = 2  # like the other problems around fleet-tui: nothing was refused on its merits

    def __init__(self, name: str) -> None:
        super().__init__(
            f"agent {name!r} has no tmux pane: the fleet is not up", "start it with `fleet-tui up`"
        )
        self.agent = name
