"""Where a row belongs: each scoped model declares, as ``__scope__``, its path to the school or
jurisdiction it is defined under; ``app.security.scoping`` turns that path into a WHERE clause.

A model without ``__scope__`` is not scoped, and asking for its clause is an error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chain:
    """The row carries the jurisdiction chain in clear, ``<prefix><level><suffix>`` for province,
    city and county, and its school's id in ``school`` (None: a row above every school)."""

    school: str | None = "school_id"
    prefix: str = ""
    suffix: str = "_code"

    def column(self, level: str) -> str:
        """The chain column of a jurisdiction level (province / city / county)."""
        return f"{self.prefix}{level}{self.suffix}"


@dataclass(frozen=True)
class Via:
    """The row belongs where a row of ``model`` belongs: its ``column`` holds that row's ``key``."""

    column: str
    model: str  # the class name in app.models (a name: models need not import each other)
    key: str = "id"


class AnyOf:
    """The row belongs wherever any of its paths leads (a transfer's two schools)."""

    def __init__(self, *paths: Chain | Via):
        self.paths = paths

    def __repr__(self) -> str:
        return f"AnyOf{self.paths!r}"


ScopePath = Chain | Via | AnyOf
