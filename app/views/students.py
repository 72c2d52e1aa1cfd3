"""Admin pages for students, their family members and their registry-number history."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request
from flask_appbuilder import action, expose, has_access
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..fields import MEMBER_FIELDS
from ..i18n import t
from ..models import FamilyMember, RegistryNumber, Student
from ..services.record import family, personal_data, photos
from ..services.record import students as student_service
from ..services.record.history_words import retired_words
from ..web.common import actor, interface, now
from ..web.labels import (
    FORMATTERS,
    LABELS,
    MASKED,
    MEMBER_DIVISIONS,
    MEMBER_LOGGED,
    MEMBER_PREFIXES,
    PERSONAL,
    code_formatter,
    labels_for,
    problems_text,
    yes_no,
)
from . import student_form as sections
from .base import ScopedModelView
from .forms import code_field, fields_for
from .record_pages import LandsOnRecord, RegistrationReviewAction

MEMBER_HIDDEN = {f.name for f in MEMBER_FIELDS if f.personal} - set(MASKED)


def show_widget(view, pk, item, columns: list[str], fieldsets=None) -> dict:
    """FAB's show widget over ``columns``: FAB's own takes them from ``show_columns``, which hold
    no masked column, so a masked page would fail."""
    return {"show": view.show_widget(pk=pk, label_columns=view.label_columns, include_columns=columns,
                                     value_columns=view.datamodel.get_values_item(item, columns),
                                     formatters_columns=view.formatters_columns, actions=view.actions,
                                     fieldsets=fieldsets, modelview_name=type(view).__name__)}


class FamilyMemberView(ScopedModelView):
    route_base = "/family"
    datamodel = interface(FamilyMember)
    class_permission_name = "FamilyMember"
    list_title = show_title = t("家庭成员", "Family members")
    add_title = t("添加家庭成员", "Add family member")
    edit_title = t("编辑家庭成员", "Edit family member")
    list_columns = ["seq", "name", "relation", "is_guardian", "phone_masked", "id_number_masked"]
    show_columns = ["student", "seq"] + [f.name for f in MEMBER_FIELDS]
    add_columns = edit_columns = ["student", "seq"] + [f.name for f in MEMBER_FIELDS]
    # not "student": its search box would be a select of every student in scope
    search_columns = ["name", "relation", "is_guardian", "id_blind"]
    add_form_extra_fields = edit_form_extra_fields = fields_for(MEMBER_FIELDS)
    add_widget = edit_widget = sections.MemberFormWidget
    label_columns = {**labels_for(MEMBER_FIELDS), "student": t("学生", "Student"),
                     "seq": t("序号", "No."), "phone_masked": LABELS["phone_masked"],
                     "id_blind": LABELS["id_blind"],
                     "id_number_masked": LABELS["id_number_masked"]}
    formatters_columns = {**{f.name: code_formatter(f.code_table) for f in MEMBER_FIELDS
                             if f.kind == "code"}, **MEMBER_DIVISIONS, "is_guardian": yes_no}

    def pre_add(self, item):
        family.prepare_member(db.session, item, actor(), adding=True)

    def pre_update(self, item):
        family.prepare_member(db.session, item, actor(), adding=False)

    def pre_delete(self, item):
        family.prepare_delete(db.session, item, actor())

    def prefill_form(self, form, pk):
        personal_data.record_view(db.session, actor(), self.get_or_404(pk).student, MEMBER_LOGGED, "edit")

    # -- a member's page: ID number, phone and address in full to roles allowed, logged --------
    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item, who = self.get_or_404(pk), actor()
        full = personal_data.may_see(who)
        if full:
            personal_data.record_view(db.session, who, item.student, MEMBER_LOGGED, "web")
        columns = self.show_columns if full else [
            MASKED.get(c, c) for c in self.show_columns if c not in MEMBER_HIDDEN]
        return self.render_template(self.show_template, pk=pk, title=self.show_title,
                                    widgets=show_widget(self, pk, item, columns),
                                    related_views=self._related_views)


class StudentView(LandsOnRecord, RegistrationReviewAction, ScopedModelView):
    route_base = "/students"
    datamodel = interface(Student)
    class_permission_name = "Student"
    method_permission_name = {"approve_registration": "approve_registration", "photo": "show"}
    list_title = t("学生名册", "Students")
    show_title = t("学籍信息", "Student record")
    add_title = t("新增学生", "New student")
    edit_title = t("编辑学籍信息", "Edit student")
    related_views = [FamilyMemberView]
    show_template = "xueji/student_show.html"

    list_columns = ["registry_no_masked", "name", "gender", "school", "grade", "school_class",
                    "status", "id_number_masked"]
    search_columns = ["name", "registry_blind", "id_blind", "school", "school_id", "grade",
                      "school_class", "status", "gender", "registry_kind"]
    order_columns = ["name", "status"]
    show_fieldsets = sections.show_fieldsets()
    add_fieldsets = sections.add_fieldsets()
    edit_fieldsets = sections.edit_fieldsets()
    add_form_extra_fields = sections.add_fields()
    edit_form_extra_fields = sections.edit_fields()
    add_widget = edit_widget = sections.StudentFormWidget
    search_form_extra_fields = {
        "gender": code_field("gender", LABELS["gender"], False),
        "status": code_field("student_status", LABELS["status"], False),
        "registry_kind": code_field("registry_kind", LABELS["registry_kind"], False),
    }
    label_columns = LABELS
    formatters_columns = FORMATTERS
    base_order = ("id", "asc")

    # -- hooks: a few lines each, the work is in the services ---------------------------------
    def pre_add(self, item):
        members = family.members_from_form(item, MEMBER_PREFIXES)
        student_service.prepare_new(db.session, item, members, actor(), now(),
                                    getattr(item, "registration", None) or None)

    def pre_update(self, item):
        photos.attach_upload(item, request.files.get("photo_upload"))
        student_service.prepare_update(db.session, item, actor(), now())

    def pre_delete(self, item):
        student_service.prepare_delete(db.session, item, actor(), now())

    def prefill_form(self, form, pk):
        personal_data.record_view(db.session, actor(), self.get_or_404(pk), PERSONAL, "edit")

    # -- the record page shows personal data in full, to roles allowed to see it, logged ------
    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self.get_or_404(pk)
        full = personal_data.may_see(actor())
        if full:
            personal_data.record_view(db.session, actor(), item, PERSONAL, "web")
        sets = self._show_sets(full)
        widgets = show_widget(self, pk, item, [c for _, spec in sets for c in spec["fields"]], sets)
        widgets = self.related_widgets(item, widgets)
        from ..models import Request
        from ..services.record import timeline

        open_request = db.session.scalar(select(Request).where(Request.open_student_id == item.id))
        return self.render_template(self.show_template, pk=pk, title=self.show_title,
                                    widgets=widgets, related_views=self._related_views,
                                    student=item, show_photo=full and item.photo_enc is not None,
                                    history=timeline.for_student(db.session, item),
                                    open_request=open_request,
                                    may_file=actor().may("Request", "add"))

    def _show_sets(self, full: bool):
        if full:
            return self.show_fieldsets
        masked = {"id_number": "id_number_masked", "phone": "phone_masked",
                  "registry_no": "registry_no_masked"}  # a G number is the whole ID number
        hidden = {"current_address", "mailing_address", "home_address", "email"}
        return [(title, {"fields": [masked.get(c, c) for c in spec["fields"] if c not in hidden]})
                for title, spec in self.show_fieldsets]

    @expose("/photo/<int:pk>")
    @has_access
    def photo(self, pk):
        item = self.get_or_404(pk)
        if item.photo_enc is None or not personal_data.may_see(actor()):
            abort(404)
        personal_data.record_view(db.session, actor(), item, ["photo"], "web")
        return Response(photos.decrypt(item), mimetype=item.photo_type,
                        headers={"Cache-Control": "no-store"})

    # -- registration review from the list: approve the step waiting for me (scoped action) ----
    @action("approve_registration", t("注册核办通过", "Approve registration"),
            t("核办通过选中学生的注册？", "Approve the registration of the selected students?"),
            "fa-check")
    def approve_registration(self, items):
        items = items if isinstance(items, list) else [items]
        done, failed = 0, []
        for item in items:
            try:
                student_service.approve_registration(db.session, item, actor(), now())
                done += 1
            except DomainError as exc:  # the use case has rolled its own transaction back
                failed.append(f"{item.name} {item.registry_no_masked}：{problems_text(exc)}")
        flash(t(f"已核办 {done} 条注册", f"{done} registrations approved"), "success")
        for line in failed:
            flash(line, "danger")
        return redirect(self.get_redirect())


class RegistryNumberView(ScopedModelView):
    route_base = "/registry-numbers"
    datamodel = interface(RegistryNumber)
    class_permission_name = "RegistryNumber"
    base_permissions = ["can_list", "can_show"]
    list_title = t("学籍号发放记录", "Registry numbers issued")
    list_columns = ["number_masked", "kind", "student", "issued_at", "issued_by", "retired_at",
                    "retired_reason"]
    search_columns = ["number_blind", "kind"]  # not "student" (see FamilyMemberView)
    show_columns = ["number_masked", "kind", "student", "issued_at", "issued_by", "retired_at",
                    "retired_reason"]
    label_columns = {"number": LABELS["registry_no"], "number_masked": LABELS["registry_no"],
                     "number_blind": LABELS["registry_blind"],
                     "kind": LABELS["registry_kind"],
                     "student": t("学生", "Student"),
                     "issued_at": t("发放时间", "Issued at"),
                     "issued_by": t("发放人", "Issued by"),
                     "retired_at": t("停用时间", "Retired at"),
                     "retired_reason": t("停用原因", "Why retired")}
    formatters_columns = {"kind": code_formatter("registry_kind"), "retired_reason": retired_words}
    base_order = ("issued_at", "desc")


