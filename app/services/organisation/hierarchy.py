"""Jurisdictions, schools, grades and classes: codes checked, always inside the actor's subtree."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import Forbidden, Problem, ValidationFailed
from ...i18n import t
from ...models import Grade, Jurisdiction, School, SchoolClass, Student
from ...models.school import GRADE_NAMES, stage_of_grade
from ...policy.vocab import STAGES
from ..common.actors import Actor


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems)


def jurisdiction_problems(node: Jurisdiction) -> list[Problem]:
    code, level, parent = node.code or "", node.level, node.parent
    if not re.fullmatch(r"\d{6}", code):
        return [Problem(t("行政区划代码须为6位数字", "the division code has 6 digits"), "code")]
    shape = {"province": code[2:] == "0000", "city": code[2:4] != "00" and code[4:] == "00",
             "county": code[4:] != "00"}
    if not shape.get(level, False):
        return [Problem(t(f"代码 {code} 不是{level}级代码", "code does not fit the level"), "code")]
    if level == "province":
        return [Problem(t("省级不应有上级", "a province has no parent"), "parent")] if parent else []
    if parent is None:
        return [Problem(t("须选择上级行政区", "choose the parent"), "parent")]
    expected = {"city": ("province",), "county": ("city", "province")}[level]
    if parent.level not in expected or not code.startswith(parent.short_code):
        return [Problem(t(f"上级 {parent} 与代码 {code} 不符", "parent does not contain this code"), "parent")]
    return []


def prepare_jurisdiction(session: Session, node: Jurisdiction, actor: Actor, *, adding: bool) -> None:
    actor.require("Jurisdiction", "add" if adding else "edit")
    _raise_if(jurisdiction_problems(node))
    node.refresh_chain()
    if not actor.is_system and not (node.parent is not None
                                    and actor.scope.contains_jurisdiction(node, strictly=True)):
        raise Forbidden(t("只能管理本辖区下级行政区", "only nodes below your own"), "parent")


def school_problems(school: School) -> list[Problem]:
    problems = []
    if not re.fullmatch(r"\d{10}", school.code or ""):
        problems.append(Problem(t("学校标识码须为10位数字", "the school code has 10 digits"), "code"))
    stages = school.stage_list
    if not stages or any(s not in STAGES for s in stages):
        problems.append(Problem(t("请选择学校开设的学段", "choose the stages the school serves"), "stages"))
    if school.jurisdiction is None:
        problems.append(Problem(t("须选择主管教育行政部门", "choose the supervising bureau"), "jurisdiction"))
    return problems


def prepare_school(session: Session, school: School, actor: Actor, *, adding: bool) -> None:
    actor.require("School", "add" if adding else "edit")
    _raise_if(school_problems(school))
    if not actor.scope.contains_jurisdiction(school.jurisdiction):
        raise Forbidden(t("主管部门不在本辖区", "the bureau is outside your jurisdiction"), "jurisdiction")
    school.refresh_chain()


def grade_problems(grade: Grade) -> list[Problem]:
    school, number = grade.school, grade.number
    if school is None:
        return [Problem(t("须选择学校", "choose the school"), "school")]
    if number is None or not (0 <= number <= 12):
        return [Problem(t("年级须为 0–12", "grade number 0 to 12"), "number")]
    stage = "preschool" if number == 0 else stage_of_grade(number)
    if stage not in school.stage_list:
        return [Problem(t("学校不开设该学段", "the school does not serve this stage"), "number")]
    grade.stage = stage
    grade.name = grade.name or GRADE_NAMES.get(number, "学前")
    return []


def prepare_grade(session: Session, grade: Grade, actor: Actor, *, adding: bool) -> None:
    actor.require("Grade", "add" if adding else "edit")
    _raise_if(grade_problems(grade))
    if not actor.sees_school(grade.school):
        raise Forbidden(t("学校不在本辖区", "the school is outside your jurisdiction"), "school")


def class_problems(klass: SchoolClass) -> list[Problem]:
    grade = klass.grade
    if grade is None:
        return [Problem(t("须选择年级", "choose the grade"), "grade")]
    if klass.school is not None and klass.school is not grade.school:
        return [Problem(t("年级不属于该学校", "the grade belongs to another school"), "grade")]
    klass.school = grade.school
    if not klass.number or klass.number < 1:
        return [Problem(t("班号须为正整数", "class number must be positive"), "number")]
    klass.name = klass.name or (f"{klass.entry_year}级{klass.number}班" if klass.entry_year
                                else f"{grade.name}{klass.number}班")
    return []


def prepare_class(session: Session, klass: SchoolClass, actor: Actor, *, adding: bool) -> None:
    actor.require("SchoolClass", "add" if adding else "edit")
    _raise_if(class_problems(klass))
    if not actor.sees_school(klass.school):
        raise Forbidden(t("学校不在本辖区", "the school is outside your jurisdiction"), "school")


def _in_use(session: Session, column, value) -> int:
    return session.scalar(select(func.count()).select_from(Student).where(column == value)) or 0


def prepare_delete(session: Session, obj, actor: Actor) -> None:
    """Nothing that still holds students (or lower levels) can be deleted."""
    resource = {Jurisdiction: "Jurisdiction", School: "School", Grade: "Grade",
                SchoolClass: "SchoolClass"}[type(obj)]
    actor.require(resource, "delete")
    if isinstance(obj, School) and _in_use(session, Student.school_id, obj.id):
        raise ValidationFailed(t("该校仍有学生，不能删除", "the school still has students"))
    if isinstance(obj, Grade) and _in_use(session, Student.grade_id, obj.id):
        raise ValidationFailed(t("该年级仍有学生，不能删除", "the grade still has students"))
    if isinstance(obj, SchoolClass) and _in_use(session, Student.class_id, obj.id):
        raise ValidationFailed(t("该班仍有学生，不能删除", "the class still has students"))
    if isinstance(obj, Jurisdiction) and (obj.children or session.scalar(
            select(func.count()).select_from(School).where(School.jurisdiction_id == obj.id))):
        raise ValidationFailed(t("该行政区下仍有下级或学校，不能删除", "it still has children or schools"))
    if isinstance(obj, Jurisdiction) and not actor.scope.contains_jurisdiction(obj, strictly=True):
        raise Forbidden(t("只能删除本辖区下级行政区", "only nodes below your own"))

