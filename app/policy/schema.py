"""The shape of one rule file, checked strictly: unknown keys, wrong types, unknown names."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from ..fields import STUDENT_FIELD_BY_NAME
from .vocab import ACTIONS, BUSINESSES, FILE_LEVELS, ROLES, STAGES, STEP_LEVELS, STUDENT_STATUSES

Stage = Literal[STAGES]  # type: ignore[valid-type]
Role = Literal[ROLES]  # type: ignore[valid-type]
StepLevel = Literal[STEP_LEVELS]  # type: ignore[valid-type]
ActionName = Literal[tuple(ACTIONS)]  # type: ignore[valid-type]
Business = Literal[tuple(BUSINESSES)]  # type: ignore[valid-type]
Status = Literal[STUDENT_STATUSES]  # type: ignore[valid-type]
# fields a rule may control: the record's own items (not its school, class, photo or grade)
CONTROLLABLE = tuple(n for n in STUDENT_FIELD_BY_NAME if n not in ("school_code", "class_name",
                                                                   "photo", "grade"))
FieldName = Literal[CONTROLLABLE]  # type: ignore[valid-type]

_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Step(Strict):
    """One approval step: who (role), where (relative to the requester), within how many days."""

    role: Role
    level: StepLevel
    days: int = Field(default=10, ge=1, le=60)


RecordItem = Literal[tuple(STUDENT_FIELD_BY_NAME)]  # type: ignore[valid-type]


class Conditions(Strict):
    """毕业条件 (graduate only): the record's items a graduate must have filled in (app/fields.py)."""

    required_fields: list[RecordItem] = Field(min_length=1)


class StageRule(Strict):
    allowed: bool | None = None
    chain: list[Step] | None = None
    locked: bool = False  # lower levels may not change this stage's rule
    conditions: Conditions | None = None  # graduate: what the stage's graduates must have


def _stage_kind(value) -> str:
    return "rule" if isinstance(value, (dict, StageRule)) else "flag"


# a stage's rule is either a plain true/false or a mapping; never try one as the other
StageValue = Annotated[Union[Annotated[bool, Tag("flag")], Annotated[StageRule, Tag("rule")]],
                       Discriminator(_stage_kind)]


class Escalate(Strict):
    """强制干预: a step overdue ``after_days`` working days past its deadline goes to ``to`` (a role)
    of the level above the party holding it."""

    after_days: int = Field(default=5, ge=0, le=60)
    to: Role = "supervisor"


class Action(Strict):
    label: str | None = None
    stages: dict[Stage, StageValue] = {}
    reasons: list[str] | None = None
    evidence: list[str] | None = None
    requires_status: list[Status] | None = None
    chain: list[Step] | None = None
    variants: dict[Literal["same_county", "same_city", "cross_province"], list[Step]] = {}
    extra_steps: list[Step] = []
    queue: bool | None = None  # false: a request filed outside its window may not wait for it
    escalate: Escalate | None = None  # this action's escalation (else the file's `escalation`)


class Cap(Strict):
    cap: int = Field(ge=1, le=100)
    lock: bool = False


class EntryAge(Strict):
    age: int = Field(ge=2, le=8)
    cutoff: str  # MM-DD
    exception_chain: list[Step] | None = None

    @field_validator("cutoff")
    @classmethod
    def _month_day(cls, value: str) -> str:
        if value == "02-29":
            raise ValueError("02-29 exists only in leap years; choose another cut-off day")
        return check_month_day(value)


class Switches(Strict):
    register_new: bool | None = None
    register_in_school: bool | None = None
    register_returnee: bool | None = None
    delete_formal_record: bool | None = None
    export_confirmation_forms: bool | None = None
    enter_corrections: bool | None = None
    entry_age: EntryAge | None = None
    edit_under_review: bool | None = None
    promotion_carry_over: bool | None = None


def check_month_day(value: str) -> str:
    match = _MONTH_DAY.fullmatch(value)
    if not match:
        raise ValueError(f"{value!r} is not a yearly date MM-DD")
    month, day = int(match.group(1)), int(match.group(2))
    try:
        date(2024, month, day)  # a leap year: 02-29 is a real yearly date
    except ValueError:
        raise ValueError(f"{value!r} is not a day of the year") from None
    return value


class Range(Strict):
    """A yearly range ('08-15'..'12-31') or a one-off one (2026-08-15..2026-12-31), inclusive."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True, populate_by_name=True)

    start: Annotated[Union[date, str], Field(alias="from")]
    end: Annotated[Union[date, str], Field(alias="to")]
    regions: list[str] = []
    reason: str | None = None
    final_grade: bool = False  # a freeze: only for graduating students (their stage's final grade)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _when(cls, value):
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return date.fromisoformat(value)
            return check_month_day(value)
        raise ValueError("must be a yearly date 'MM-DD' or a date YYYY-MM-DD")

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        for code in value:
            if not re.fullmatch(r"\d{2}(\d{2}(\d{2})?)?", code):
                raise ValueError(f"region {code!r} must be a division code of 2, 4 or 6 digits")
        return value

    @model_validator(mode="after")
    def _order(self) -> "Range":
        if isinstance(self.start, date) != isinstance(self.end, date):
            raise ValueError("'from' and 'to' must both be yearly (MM-DD) or both be dates")
        if self.end < self.start:
            raise ValueError(f"the range ends ({self.end}) before it starts ({self.start})")
        return self

    @property
    def yearly(self) -> bool:
        return isinstance(self.start, str)


class Calendar(Strict):
    """Public holidays and make-up working days (调休), for deadlines in working days."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)

    holidays: list[date] = []
    workdays: list[date] = []


class ControlledFields(Strict):
    add: list[FieldName] = []
    remove: list[FieldName] = []  # a province may drop a national default that is not locked
    locked: list[FieldName] = []  # controlled here and below, whatever lower levels say


class Exports(Strict):
    """导出审批: an export of more than ``approval_over_rows`` students, or of a whole node of one of
    ``approval_scopes``, waits for a supervisor's approval before its file can be downloaded."""

    approval_over_rows: int | None = Field(default=None, ge=0)
    approval_scopes: list[Literal["province", "city", "county", "school"]] | None = None
    # the rows the same account exported this many hours back (other scopes of the same
    # jurisdiction) count towards approval_over_rows: no dodging it school by school; 0: none
    approval_window_hours: int | None = Field(default=None, ge=0, le=24 * 31)


class RuleFile(Strict):
    level: Literal[FILE_LEVELS]  # type: ignore[valid-type]
    code: str | None = None
    name: str | None = None
    description: str | None = None
    controlled_fields: ControlledFields | None = None
    actions: dict[ActionName, Action] = {}
    class_caps: dict[Stage, Cap] = {}
    switches: Switches | None = None
    windows: dict[Business, list[Range]] = {}
    freezes: dict[Business, list[Range]] = {}
    calendar: Calendar | None = None
    escalation: Escalate | None = None  # the default escalation of every action below
    exports: Exports | None = None  # which exports need a supervisor's approval
