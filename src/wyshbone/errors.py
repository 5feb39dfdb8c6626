"""The one exception tree of Wyshbone. Each class's docstring is its default message.

WyshboneError
├── InputError                  bad input from a person (CLI exit 2, HTTP 4xx)
│   └── UnplannableGoalError    the goal cannot be read into a plan
│   └── SetupError              something must be configured first (e.g. an SMTP server to send)
├── ConflictError               not in a state that allows this (HTTP 409)
│   └── PlanStateError          e.g. approving a plan twice (also a PlanError)
├── PlanError                   a plan is invalid or in the wrong state
│   └── InvalidPlanError        duplicate ids, unknown dependencies, cycles
├── RegistryError               a tool registered twice or not at all
├── DirectoryNotImportedError   the local directory has not been imported yet
└── ToolError                   raised by a tool/provider; says whether a retry may help
    ├── RetryableToolError      try again later (``retry_after`` seconds, when the service said)
    ├── PermanentToolError      retrying cannot help (bad input, auth, quota gone)
    └── NotConfiguredError      no provider is configured for this tool: skipped by design

A tool error has two tellings. ``str(error)`` is the technical account, starting with the provider's name
("google_places: HTTP 429 RESOURCE_EXHAUSTED ...") for logs and for tests of the translation. ``error.message``
is what a person is shown (a step's ``errorMessage``): when the code that raised it gave an ``explanation``,
"google_places: <the explanation> (details: <the setting to check>; <the technical account>)", else the same.
"""

from __future__ import annotations


class WyshboneError(Exception):
    """Wyshbone failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self)


class InputError(WyshboneError):
    """The input is not valid."""


class UnplannableGoalError(InputError):
    """The goal cannot be turned into a plan."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems) if problems else None)


class NotFoundError(InputError):
    """Not found."""


class SetupError(InputError):
    """This needs a setting that is not set."""


class ConflictError(WyshboneError):
    """Not in a state that allows this."""


class PlanError(WyshboneError):
    """The plan cannot be used."""


class InvalidPlanError(PlanError):
    """The plan's steps are inconsistent."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems) if problems else None)


class PlanStateError(PlanError, ConflictError):
    """The plan is not in a state that allows this."""


class RegistryError(WyshboneError):
    """The tool registry is inconsistent."""


class DirectoryNotImportedError(WyshboneError):
    """The business directory has not been imported yet: run `wyshbone db import`."""


class ToolError(WyshboneError):
    """A tool failed."""

    retryable: bool = False

    def __init__(
        self, message: str | None = None, *, explanation: str | None = None, setting: str | None = None
    ) -> None:
        super().__init__(message)
        self.explanation = explanation
        """What the failure means, in words for the person running the plan (no codes, no internal names)."""
        self.setting = setting
        """The setting that may need fixing (``WYSHBONE_...``), named among the details."""

    @property
    def message(self) -> str:
        """The explanation first, the setting and the technical account as its details (see the module)."""
        technical = str(self)
        if not self.explanation:
            return technical
        # Tool error messages start with the provider's name ("hunter: ..."); it stays in front.
        provider, colon, rest = technical.partition(": ")
        if not colon or " " in provider:
            provider, rest = "", technical
        details = "; ".join(part for part in (f"check {self.setting}" if self.setting else "", rest) if part)
        return f"{provider + ': ' if provider else ''}{self.explanation} (details: {details})"


class RetryableToolError(ToolError):
    """A tool failed in a way that may pass if tried again."""

    retryable = True

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        explanation: str | None = None,
        setting: str | None = None,
    ) -> None:
        super().__init__(message, explanation=explanation, setting=setting)
        self.retry_after = retry_after
        """Seconds the service asked to wait before the next attempt (None: it did not say)."""


class PermanentToolError(ToolError):
    """A tool failed in a way that retrying cannot fix."""


class NotConfiguredError(ToolError):
    """No provider is configured for this tool."""
