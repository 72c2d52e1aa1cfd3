"""What a request kind declares, and the steps every kind takes unless its declaration says otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ....errors import Problem
from ....i18n import t
from ....models import Request, School, SchoolClass, Student
from ..seats import class_problems

# what a filing page may ask for: the rules say which reasons and evidence each kind takes
FIELDS = ("payload", "target_class", "reason", "evidence")


@dataclass(frozen=True)
class Kind:
    """One kind of request, declared once, with its steps as methods (a Frappe DocType's hooks)."""

    name: str  # the engine's action (app.policy.vocab.ACTIONS), stored on the request
    label: str  # what users read: the engine's label for the action
    startable: bool = True  # a school files it (a registration review opens with its record)
    exclusive: bool = True  # refused while the student has another request open (2002)
    status_after: str | None = None  # the student's status once the request is applied
    asks: tuple[str, ...] = ("reason", "evidence")  # the filing page's fields (FIELDS), and a note
    needs_class: bool = False  # a target class is required, not only allowed
    grade_step: int = 0  # the target class's grade, relative to the student's
    from_other_school: bool = False  # the student is another school's, which becomes a party
    by_registry_no: bool = False  # that student is found by the national registry number alone
    cancellable: bool = True  # the requesting school may withdraw it while it is open

    # -- at the start -------------------------------------------------------------------------

    def prepare(self, session: Session, student: Student, origin: School, payload: dict,
                target_class: SchoolClass | None, actor) -> list[Problem]:
        """Problems with what the request asks for (the rules are asked separately)."""
        if self.needs_class and target_class is None:
            return [Problem(t("请选择转入/升入的班级", "choose the class"), "target_class", "required")]
        if target_class is None:
            return []
        return class_problems(self.grade_step, student, origin, target_class)

    def facts(self, student: Student, origin: School, payload: dict,
              target_class: SchoolClass | None) -> dict:
        """What the engine hears about this request beyond the student's status and record."""
        return {"stage": student.grade.stage if student.grade else None,
                "grade": student.grade.number if student.grade else None}

    def variant(self, student: Student, origin: School) -> str | None:
        """Which form of the kind this is (a transfer's distance); most kinds have one form."""
        return None

    def before(self, student: Student, payload: dict) -> dict:
        """The values the request would replace, kept as they were when it was filed."""
        return {}

    def summary(self, payload: dict, target_class: SchoolClass | None) -> str:
        """What the request is about, without personal values (lists show it)."""
        if target_class is not None:
            return f"{self.label} → {target_class.school.name} {target_class.name}"[:300]
        return self.label

    def recheck(self, session: Session, req: Request, now: datetime) -> list[Problem]:
        """Problems that stop a returned request from going up its chain again."""
        return []

    # -- at the end ---------------------------------------------------------------------------

    def waits_for_pull(self, req: Request) -> bool:
        """True when the approvals end in a pull by the receiving school, not in the change."""
        return False

    def apply(self, session: Session, req: Request, student: Student, actor, now: datetime) -> None:
        """The last approval's change to the record(s)."""
        if self.status_after is not None:
            student.status = self.status_after

    def audited(self, req: Request) -> dict:
        """Items the audit row names beyond the record's own columns that changed."""
        return {}

    def reject(self, session: Session, req: Request, actor, now: datetime) -> None:
        """What a request that is not approved leaves behind: by default, nothing."""
