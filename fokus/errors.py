"""Domain errors: exceptions whose message a person can act on (in Danish)."""

from __future__ import annotations


class FokusError(Exception):
    """A refusal the user can fix: the message says, in Danish, what to do."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(FokusError):
    """Input that breaks a rule of the data model."""


class ConflictError(FokusError):
    """Someone else changed the record first (optimistic locking)."""


class NotFoundError(FokusError):
    """The record does not exist, or not for this user's units."""


class PermissionDenied(FokusError):
    """The acting user's role or units do not allow this.

    `db.write_session` records every refusal in the audit log (in a transaction of its own,
    since the refused one is rolled back); `actor` and `what` say who tried what.
    """

    def __init__(self, message: str, *, actor: object = None, what: str = "") -> None:
        super().__init__(message)
        self.actor = actor
        self.what = what
