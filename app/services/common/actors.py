"""Who is acting: account id and name, roles, and the scope they act in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ...errors import Forbidden, NotFound
from ...i18n import t
from ...models import Jurisdiction, School
from ...security.roles import ROLES, RoleSpec, allowed
from ...security.scoping import NO_SCOPE, Scope, account_roles, scope_of


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    roles: tuple[RoleSpec, ...]
    scope: Scope
    node: str | None = None  # school:<id> or bureau:<code>: where the account sits

    @classmethod
    def of(cls, user) -> "Actor":
        if user is None:
            return cls(None, "anonymous", (), NO_SCOPE)
        from ..requests.parties import account_node

        return cls(user.id, user.username, tuple(account_roles(user)), scope_of(user),
                   account_node(user))

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        """The installer, the seed and maintenance commands: province-wide, every permission."""
        return cls(None, label, tuple(ROLES.values()), Scope("system"))

    @property
    def functions(self) -> set[str]:
        return {r.function for r in self.roles}

    @property
    def school_id(self) -> int | None:
        return self.scope.school_id if self.scope.level == "school" else None

    @property
    def is_system(self) -> bool:
        return self.scope.level == "system"

    def may(self, resource: str, verb: str) -> bool:
        return self.is_system or any(allowed(r, resource, verb) for r in self.roles)

    def require(self, resource: str, verb: str) -> None:
        if not self.may(resource, verb):
            raise Forbidden(t("无权执行此操作", f"your role may not {verb} {resource}"))

    def place(self, session):
        """Where the account sits: its School, or its Jurisdiction (None: the system)."""
        if self.school_id is not None:
            return session.get(School, self.school_id)
        return session.scalar(select(Jurisdiction).where(Jurisdiction.code == self.scope.code))

    def sees_school(self, school) -> bool:
        return self.is_system or self.scope.contains_school(school)

    def fetch(self, session, model, pk, missing, *, field: str | None = None, lock: bool = False):
        """The ``model`` row ``pk`` inside this actor's jurisdiction, or NotFound with ``missing``:
        another jurisdiction's rows are simply not there."""
        return self.find(session, model, missing, model.id == pk, field=field, lock=lock)

    def find(self, session, model, missing, *criteria, field: str | None = None, lock: bool = False):
        """The one ``model`` row matching ``criteria`` inside this actor's jurisdiction, or
        NotFound with ``missing``."""
        query = select(model).where(*criteria, self.scope.clause(model))
        row = session.scalar(query.with_for_update() if lock else query)
        if row is None:
            raise NotFound(missing, field)
        return row
