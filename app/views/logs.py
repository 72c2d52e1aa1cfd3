"""Read-only logs in words (personal-data views, record and account changes) and the code tables,
scoped like everything else."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup

from ..extensions import db
from ..i18n import t
from ..models import AuditEvent, CodeItem, ImportJob, PersonalDataAccess, Student
from ..services.record.history_words import (
    ACCOUNT_WORDS,
    ENTITY_WORDS,
    action_words,
    change_lines,
    channel_words,
    fields_words,
)
from ..web.common import interface
from ..web.data import XuejiInterface
from .base import ScopedModelView
from .display import may_open

CODE_TABLES = {
    "gender": t("性别", "Gender"), "ethnicity": t("民族", "Ethnicity"),
    "id_type": t("身份证件类型", "ID type"), "hmt_status": t("港澳台侨外", "HK/Macao/Taiwan/overseas"),
    "nationality": t("国籍/地区", "Nationality"), "health": t("健康状况", "Health"),
    "political_status": t("政治面貌", "Political status"), "hukou_nature": t("户口性质", "Hukou nature"),
    "entry_mode": t("入学方式", "Entry mode"), "study_mode": t("就读方式", "Study mode"),
    "student_source": t("学生来源", "Source"), "left_behind": t("留守儿童", "Left-behind child"),
    "inclusive_schooling": t("随班就读", "Inclusive schooling"), "disability": t("残疾类型", "Disability"),
    "travel_mode": t("上下学方式", "Travel mode"), "relation": t("家庭成员关系", "Relation"),
    "blood_type": t("血型", "Blood type"), "yes_no": t("是否", "Yes/no"),
    "student_status": t("学籍状态", "Student status"), "stage": t("学段", "Stage"),
    "school_kind": t("学校类别", "School kind"), "ownership": t("办学性质", "Ownership"),
    "registry_kind": t("学籍号类型", "Registry number kind"),
    "jurisdiction_level": t("行政区划级别", "Jurisdiction level"),
}


def _student_link(student_id) -> Markup | str:
    """A logged student by name, linked to the record, for an account that may open it (the log
    row is in scope through the student); an administrator, who sees no students, its number."""
    if student_id is None:
        return ""
    if not may_open("StudentView.show"):
        return f"#{student_id}"
    student = db.session.get(Student, student_id)
    if student is None:
        return str(t("（已删除的学籍）", "(deleted record)"))
    return Markup('<a href="{}">{}</a>').format(url_for("StudentView.show", pk=student_id),
                                                student.name)


def _job_link(job_id) -> Markup | str:
    if job_id is None:
        return ""
    job = db.session.get(ImportJob, job_id)
    name = job.filename if job is not None else f"#{job_id}"
    if not may_open("ImportView.show"):
        return name
    return Markup('<a href="{}">{}</a>').format(url_for("ImportView.show", pk=job_id), name)


def _changes(changes) -> Markup:
    """An audit row's changes, one item a line: 学籍状态：在校 → 休学."""
    lines = []
    for item, values in change_lines(db.session, changes).items():
        if "old" in values:
            lines.append(Markup("{}：{} → {}").format(item, values["old"], values["new"]))
        else:
            lines.append(Markup("{}：{}").format(item, values.get("new", "")))
    return Markup("<br>").join(lines)


def _who(username) -> str:
    """Who did it; the system's own work (the seed, maintenance commands) as 系统."""
    if not username or username == "system" or username == "seed" or username.startswith("cli:"):
        return str(t("系统", "system"))
    return username


def _summary(text) -> str:
    """A summary as written; an account row's older ones began with the action's key."""
    head, _, rest = (text or "").partition(" ")
    return rest if rest and head in ACCOUNT_WORDS else (text or "")


class PersonalDataAccessView(ScopedModelView):
    route_base = "/personal-data-log"
    datamodel = interface(PersonalDataAccess)
    class_permission_name = "PersonalDataAccess"
    base_permissions = ["can_list", "can_show"]
    list_title = t("个人信息查看记录", "Personal data views")
    noun = t("个人信息查看记录", "personal data view")
    list_columns = ["at", "username", "student_id", "import_job_id", "channel", "fields"]
    show_columns = list_columns
    search_columns = ["username", "channel", "at"]
    base_order = ("at", "desc")
    label_columns = {"at": t("时间", "When"), "username": t("账号", "Who"),
                     "student_id": t("学生", "Whom"), "import_job_id": t("导入任务", "Import job"),
                     "channel": t("途径", "Channel"),
                     "fields": t("查看的项目", "Items seen")}
    formatters_columns = {"student_id": _student_link, "import_job_id": _job_link,
                          "channel": channel_words, "fields": fields_words}


class _AuditInterface(XuejiInterface):
    """The audit log's rows, each action in words: the words depend on the row's entity too
    (create: 新建学籍 or 新建账号), which a column's formatter does not see."""

    def _get_attr_value(self, item, col):
        if col == "action":
            return action_words(item.action, item.entity)
        return super()._get_attr_value(item, col)


class AuditEventView(ScopedModelView):
    route_base = "/audit-log"
    datamodel = _AuditInterface(AuditEvent, db.session)
    class_permission_name = "AuditEvent"
    base_permissions = ["can_list", "can_show"]
    list_title = t("操作日志", "Audit log")
    noun = t("操作记录", "audit entry")
    list_columns = ["at", "username", "action", "entity", "entity_id", "summary"]
    show_columns = list_columns + ["changes", "rule_version"]
    search_columns = ["username", "entity_id", "at"]
    base_order = ("at", "desc")
    label_columns = {"at": t("时间", "When"), "username": t("账号", "Who"),
                     "action": t("操作", "Action"), "entity": t("对象", "Entity"),
                     "entity_id": t("编号", "Id"), "summary": t("摘要", "Summary"),
                     "changes": t("变更", "Changes"), "rule_version": t("规则集版本", "Rule set")}
    formatters_columns = {"entity": lambda e: ENTITY_WORDS.get(e, e), "changes": _changes,
                          "username": _who, "summary": _summary,
                          "rule_version": lambda v: f"v{v}" if v else ""}


class CodeItemView(ScopedModelView):
    """Code tables are national data; the province's administrator may relabel or retire entries."""

    route_base = "/codes"

    datamodel = interface(CodeItem)
    class_permission_name = "CodeItem"
    base_filters = []
    base_permissions = ["can_list", "can_show", "can_edit"]
    list_title = t("代码表", "Code tables")
    noun = t("代码", "code")
    list_columns = ["table_name", "code", "label", "label_en", "active"]
    show_columns = list_columns
    edit_columns = ["label", "label_en", "active"]
    search_columns = ["table_name", "code", "label"]
    base_order = ("table_name", "asc")
    page_size = 100
    label_columns = {"table_name": t("代码表", "Table"), "code": t("代码", "Code"),
                     "label": t("名称", "Label"), "label_en": t("英文名称", "English"),
                     "active": t("启用", "Active")}
    # the code is data (in_school, 01 ...): shown as code; the English label marked as English
    formatters_columns = {"table_name": lambda n: CODE_TABLES.get(n, n),
                          "code": lambda c: Markup("<code>{}</code>").format(c),
                          "label_en": lambda e: Markup('<span lang="en">{}</span>').format(e or "")}
