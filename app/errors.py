"""The one small family of errors services raise; views and the API map them in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    """One thing wrong with a request: which field, what, and (for rules) where the rule lives."""

    message: str
    field: str | None = None
    code: str | None = None
    source: str | None = None

    def as_dict(self) -> dict:
        return {k: str(v) for k, v in self.__dict__.items() if v is not None}

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        src = f" ({self.source})" if self.source else ""
        return f"{where}{self.message}{src}"


class DomainError(Exception):
    """Base of the family; ``problems`` carries every issue at once."""

    status = 400

    def __init__(self, message_or_problems, field: str | None = None):
        if isinstance(message_or_problems, (list, tuple)):
            self.problems = list(message_or_problems)
        else:  # a message: str, or a lazy string from app.i18n.t
            self.problems = [Problem(message_or_problems, field)]
        super().__init__(str(self))

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self.problems)

    def as_json(self) -> dict:
        return {"message": str(self), "errors": [p.as_dict() for p in self.problems]}


class ValidationFailed(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class RuleViolation(DomainError):
    status = 422
