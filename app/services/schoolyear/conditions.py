"""毕业条件: the record items the rules in force require of a stage's graduates (``actions.graduate
.stages.<stage>.conditions``), and which of them a record lacks, each with its file:line.  Read when
the school graduates its cohort and again when the bureau approves a graduation review (the record
may have changed between the two)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...errors import Problem
from ...fields import STUDENT_FIELD_BY_NAME
from ...i18n import t
from ...models import Student
from ...policy.engine import graduation_conditions
from ..policy import rulesets as policy

# record items kept in another column than their name
_COLUMN = {"class_name": "class_id", "school_code": "school_id", "photo": "photo_enc",
           "grade": "grade_id"}


def item_column(name: str):
    """The Student column that holds record item ``name`` (an encrypted one: its ciphertext)."""
    spec = STUDENT_FIELD_BY_NAME[name]
    return getattr(Student, _COLUMN.get(name) or (f"{name}_enc" if spec.personal else name))


def unmet(required: dict[str, str], values) -> list[dict]:
    """The conditions (item name -> source) whose item is empty in ``values`` (in the same order)."""
    out = []
    for (name, source), value in zip(required.items(), values):
        if value is None or value == "":
            spec = STUDENT_FIELD_BY_NAME[name]
            out.append({"item": name, "label": spec.header, "label_en": spec.label_en, "source": source})
    return out


def reason(missing: list[dict]):
    """The one sentence that says which items are missing and which rules ask for them."""
    where = "，".join(dict.fromkeys(u["source"] for u in missing))
    return t("毕业条件不满足，缺少：" + "、".join(u["label"] for u in missing) + f"（{where}）",
             "conditions not met, missing: " + ", ".join(u["label_en"] for u in missing) + f" ({where})")


def lacking(session: Session, student: Student) -> list[Problem]:
    """What the record lacks of its stage's graduation conditions now (nothing: it may graduate)."""
    required = graduation_conditions(policy.effective_for(session, student.school), student.grade.stage)
    missing = unmet(required, [getattr(student, item_column(n).key) for n in required])
    if not missing:
        return []
    return [Problem(reason(missing), missing[0]["item"], "conditions_not_met", missing[0]["source"])]
