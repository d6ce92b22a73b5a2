"""Typed domain errors. Each carries the rule ID it enforces (see docs/policy.md)."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused. ``rule_id`` names the rule; ``field`` the offending input."""

    status_hint = "unprocessable"

    def __init__(self, rule_id: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.rule_id = rule_id
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.message}"


class InvalidInputError(DomainError):
    """A value is malformed (bad resident ID, bad region code, negative amount...)."""

    status_hint = "invalid"


class RuleViolationError(DomainError):
    """The input is well formed but a policy rule forbids the command."""


class ConflictError(DomainError):
    """The command conflicts with the current state (duplicate, already done, race lost)."""

    status_hint = "conflict"


class NotFoundError(DomainError):
    """The command names an entity that does not exist."""

    status_hint = "not_found"


class PolicyGapError(RuleViolationError):
    """The catalogue in force leaves this parameter explicitly unspecified.

    The source documents do not give a number; a region must publish a catalogue
    version that fills the gap before the rule can be applied.
    """


class PreconditionFailedError(DomainError):
    """The client's expected version (``If-Match``) is not the current one."""

    status_hint = "precondition"


class OutOfScopeError(RuleViolationError):
    """What the command names lies outside the region the caller acts for (REGION-SCOPE).

    The API answers it as 403, naming only the caller's own region.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__("REGION-SCOPE", message, field)


class RegisteredElsewhereError(OutOfScopeError):
    """A natural key (resident ID, credit code) is registered outside the caller's region.

    It names neither the region nor the entity: the API answers it as 403 REGION-SCOPE,
    the same whether the other registration came first or raced this one.
    """

    def __init__(self, what: str, field: str) -> None:
        super().__init__(
            f"this {what} cannot be registered with this key: it is registered outside "
            "the key's region (the region it belongs to registers it)",
            field,
        )
