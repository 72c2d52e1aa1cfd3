"""REST resources for students (personal data masked in lists, logged when shown) and families."""

from __future__ import annotations

from flask import request
from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow.validate import Length, OneOf, Validator

from ..errors import NotFound
from ..extensions import db
from ..fields import ALL_STUDENT_FIELDS, MEMBER_FIELDS
from ..i18n import t
from ..models import FamilyMember, SchoolClass, Student
from ..services.record import family, personal_data
from ..services.record import students as student_service
from ..services.record.validation import number_limit, number_problem
from ..web.common import actor, interface, now
from ..web.labels import LABELS, MASKED, MEMBER_LOGGED, PERSONAL
from .base import ScopedApi


class _Within(Validator):
    """A number from 0 to the column's largest (the same check as forms and imports)."""

    def __init__(self, limit):
        self.limit = limit

    def __call__(self, value):
        problem = number_problem(value, self.limit)
        if problem:
            raise ValidationError(str(problem))
        return value


def _longest(model, spec) -> int | None:
    """The most characters the item may have: its own limit, or its column's."""
    column = model.__table__.columns.get(spec.name)
    limits = [n for n in (spec.max_length, getattr(getattr(column, "type", None), "length", None)) if n]
    return min(limits) if limits else None


def _ma_field(spec, model):
    """The JSON field of one item, bounded like its column (a value the column cannot hold is a
    422 naming the item, not a database error at commit)."""
    if spec.kind in ("date", "month"):
        return fields.Date(allow_none=True)
    if spec.kind == "bool":
        return fields.Boolean(allow_none=True)
    if spec.kind == "number":
        limit = number_limit(spec.name)
        bounds = {"minimum": 0, **({"maximum": float(limit)} if limit is not None else {})}
        return fields.Decimal(allow_none=True, as_string=True, validate=_Within(limit), metadata=bounds)
    longest = _longest(model, spec)
    return fields.String(allow_none=True, validate=Length(max=longest) if longest else None)


def _schema(specs, extra: dict, name: str, model) -> type[Schema]:
    attrs = {s.name: _ma_field(s, model) for s in specs if s.kind not in ("school", "class")}
    attrs.update(extra)
    attrs["Meta"] = type("Meta", (), {"unknown": RAISE})
    return type(name, (Schema,), attrs)


MemberSchema = _schema(MEMBER_FIELDS, {}, "MemberSchema", FamilyMember)
StudentWriteSchema = _schema(
    ALL_STUDENT_FIELDS,
    {"school_class": fields.Integer(required=True),
     "name_pinyin": fields.String(allow_none=True, validate=Length(max=100)),
     "registration": fields.String(validate=OneOf(["new", "in_school", "returnee"]), load_default=None),
     "members": fields.List(fields.Nested(MemberSchema), load_default=list)},
    "StudentWriteSchema", Student,
)


def _apply(student: Student, data: dict) -> None:
    if "school_class" in data:
        klass = db.session.get(SchoolClass, data.pop("school_class"))
        if klass is None:
            raise NotFound(t("班级不存在", "no such class"), "school_class")
        student.school_class = klass
        student.school = student.school or klass.school
    for key, value in data.items():
        setattr(student, key, value)


class StudentApi(ScopedApi):
    resource_name = "student"
    label_columns = LABELS
    datamodel = interface(Student)
    class_permission_name = "Student"
    list_columns = ["id", "registry_no_masked", "registry_kind", "name", "gender", "status",
                    "school_id", "school.code", "school.name", "grade_id", "class_id",
                    "id_number_masked", "phone_masked"]
    row_needs = ("uid", "registry_no_enc", "id_number_enc", "phone_enc")
    show_columns = (["id", "registry_no", "registry_kind", "status", "school_id", "grade_id",
                     "class_id", "name_pinyin", "school.code", "school.name"]
                    + [f.name for f in ALL_STUDENT_FIELDS if f.kind not in ("school", "class")])
    add_columns = edit_columns = ["name"]  # writes go through StudentWriteSchema and the services
    # ... and the OpenAPI document says so (clients and the fuzz see the real bodies)
    add_model_schema = StudentWriteSchema()
    edit_model_schema = StudentWriteSchema(partial=True)
    search_columns = ["name", "registry_blind", "id_blind", "school", "grade", "school_class",
                      "status", "gender"]
    order_columns = ["id", "name", "status"]

    def post_headless(self):
        return self._domain(self._create)

    def put_headless(self, pk):
        return self._domain(self._update, pk)

    def _load(self, partial: bool):
        if not request.is_json:
            return None, self.response_400(message="Request is not JSON")
        try:
            return StudentWriteSchema().load(request.json, partial=partial), None
        except ValidationError as err:
            return None, self.response_422(message=err.messages)

    def _create(self):
        data, error = self._load(partial=False)
        if error:
            return error
        members = [family.member_from_values(m) for m in data.pop("members")]
        registration = data.pop("registration", None)
        student = Student()
        with db.session.no_autoflush:
            _apply(student, data)
        student_service.create(db.session, student, [m for m in members if m], actor(), now(),
                               registration)
        return self.response(201, id=student.id, result={"registry_no": student.registry_no,
                                                         "name": student.name})

    def _update(self, pk):
        item = self.get_or_404(pk)
        data, error = self._load(partial=True)
        if error:
            return error
        if "members" in data:
            return self.response_422(message={"members": ["use /api/v1/family_member/"]})
        _apply(item, data)
        student_service.update(db.session, item, actor(), now())
        return self.response(200, id=item.id, result={"registry_no": item.registry_no})

    def pre_delete(self, item):
        student_service.prepare_delete(db.session, item, actor(), now())

    def pre_get(self, data):
        """The full record goes only to roles allowed to see it, and each view is logged."""
        who = actor()
        result = data.get("result", {})
        if personal_data.may_see(who):
            student = db.session.get(Student, data.get("id"))
            personal_data.record_view(db.session, who, student, PERSONAL, "api")
            return
        item = db.session.get(Student, data.get("id"))
        for key in PERSONAL:
            result[key] = getattr(item, MASKED[key]) if key in MASKED else None


MemberWriteSchema = _schema(MEMBER_FIELDS, {"student_id": fields.Integer(), "seq": fields.Integer()},
                            "MemberWriteSchema", FamilyMember)


class FamilyMemberApi(ScopedApi):
    """Family members: personal items (ID number, phone, address) are written encrypted too."""

    resource_name = "family_member"
    datamodel = interface(FamilyMember)
    class_permission_name = "FamilyMember"
    list_columns = ["id", "student_id", "seq", "name", "relation", "is_guardian", "phone_masked",
                    "id_number_masked"]
    row_needs = ("uid", "phone_enc", "id_number_enc")
    show_columns = ["id", "student_id", "seq"] + [f.name for f in MEMBER_FIELDS]
    add_columns = edit_columns = ["name"]  # writes go through MemberWriteSchema and the service
    add_model_schema = MemberWriteSchema()
    edit_model_schema = MemberWriteSchema(partial=True)
    search_columns = ["student", "name", "relation"]

    def post_headless(self):
        return self._domain(self._write, None)

    def put_headless(self, pk):
        return self._domain(self._write, pk)

    def _write(self, pk):
        if not request.is_json:
            return self.response_400(message="Request is not JSON")
        try:
            data = MemberWriteSchema().load(request.json, partial=pk is not None)
        except ValidationError as err:
            return self.response_422(message=err.messages)
        member = FamilyMember() if pk is None else self.get_or_404(pk)
        with db.session.no_autoflush:
            student_id = data.pop("student_id", None)
            if pk is None:
                member.student = student_service.get_in_scope(db.session, actor(), student_id, "student_id")
            for key, value in data.items():
                setattr(member, key, value)
        family.save_member(db.session, member, actor(), adding=pk is None)
        return self.response(201 if pk is None else 200, id=member.id,
                             result={"name": member.name, "seq": member.seq})

    def pre_delete(self, item):
        family.prepare_delete(db.session, item, actor())

    def pre_get(self, data):
        """A guardian's ID number, phone and address in full only to roles allowed, logged."""
        who, item = actor(), db.session.get(FamilyMember, data.get("id"))
        if personal_data.may_see(who):
            personal_data.record_view(db.session, who, item.student, MEMBER_LOGGED, "api")
            return
        result = data.get("result", {})
        for key in (k for k in result if f"member.{k}" in MEMBER_LOGGED):
            result[key] = personal_data.masked(key, getattr(item, key))
