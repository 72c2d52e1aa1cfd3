"""Words every page shares: the titles of a page's add / edit / show forms (FAB would write
"Show Registry Number"), roles by their names and what each may do, one's own name as one item."""

from __future__ import annotations

from flask import current_app
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.widgets import ListWidget
from flask_babel import LazyString
from markupsafe import Markup
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..i18n import english, t
from ..models import CustomRole
from ..security.custom_roles import PREFIX, spec_of
from ..security.roles import MATRIX, ROLES, VERB_PERMISSIONS
from ..security.sync import endpoint_permission


class CountedListWidget(ListWidget):
    """FAB's list, whose total says 约 (about) when it is the database's estimate (a list too long
    to count on every view, ``app.web.data.Estimate``), and whose page past the real end says so."""

    template = "xueji/list_widget.html"


def titled(zh: str, en: str, noun) -> LazyString:
    """A form's title from what one row is: 新增年级 / Add grade."""
    return LazyString(lambda: f"{en} {noun}" if english() else f"{zh}{noun}")


def role_label(name: str) -> str:
    """A role by its name in the reader's language (学校学籍管理员), never its key; a custom role
    by the name its security administrator gave it."""
    spec = ROLES.get(name)
    if spec is None and name.startswith(PREFIX):
        row = db.session.scalar(select(CustomRole).where(CustomRole.name == name))
        spec = spec_of(row) if row is not None else None
    return str(t(spec.label, spec.label_en)) if spec else name


def role_labels(roles) -> str:
    """Several roles (Role rows or names) as words."""
    return "、".join(role_label(getattr(r, "name", r)) for r in roles or ())


class NameForm(DynamicForm):
    """One's own name as one item (FAB's form splits it into a first and a last name)."""

    first_name = StringField(t("姓名", "Name"), validators=[DataRequired(), Length(max=64)],
                             widget=BS3TextFieldWidget())


RESOURCE_WORDS = {
    "Jurisdiction": ("行政区划", "jurisdictions"), "School": ("学校", "schools"),
    "Grade": ("年级", "grades"), "SchoolClass": ("班级", "classes"),
    "Student": ("学生", "students"), "FamilyMember": ("家庭成员", "family members"),
    "RegistryNumber": ("学籍号记录", "registry numbers"), "CodeItem": ("代码表", "code tables"),
    "PersonalDataAccess": ("个人信息查看记录", "personal-data log"),
    "AuditEvent": ("操作日志", "audit log"), "ExportLog": ("导出记录", "export log"),
    "Request": ("业务办理", "requests"), "ProblemCase": ("问题学籍", "problem records"),
    "ImportJob": ("Excel 导入导出", "Excel import and export"), "Policy": ("政策规则", "policy"),
    "Account": ("账号", "accounts"),
    "Report": ("统计报表", "reports"),
    "Promotion": ("学年升级", "promotion"),
    "EnrollmentPlan": ("招生计划", "enrollment plans"),
    "QualityCampaign": ("数据质量核查", "data-quality verification"),
    "Admission": ("录取名单", "admission lists"),
    "AccountApproval": ("账号审批", "account approvals"), "CustomRole": ("自定义角色", "custom roles"),
    "ExportRequest": ("导出审批", "export approvals"), "Job": ("任务进度", "jobs"),
    "Identity": ("身份鉴别", "identity controls"), "PasswordLoan": ("借用密码登记", "password lending"),
    "SecurityPolicy": ("安全策略", "security policy"),
}
VERB_WORDS = {
    "read": ("查看", "see"), "add": ("新增", "add"), "edit": ("修改", "edit"),
    "delete": ("删除", "delete"), "approve_registration": ("注册核办", "approve registrations"),
    "personal_data": ("查看完整个人信息", "see personal data in full"),
    "decide": ("核办", "decide"), "export": ("导出", "export"),
    "sign": ("签发", "sign off"), "generate": ("生成", "generate"),
    "mark": ("核查登记", "mark confirmation forms"),
    "resolve": ("裁定重复录取", "resolve duplicate admissions"),
    "unlock": ("解除锁定", "unlock"), "cancel": ("取消", "cancel"),
}


def role_powers(permissions) -> Markup:
    """What a role may do, one line per kind of record, from the permissions it holds."""
    held = {(pv.permission.name, pv.view_menu.name) for pv in permissions or ()}
    lines = []
    for resource, verbs in MATRIX.items():
        words = [str(t(*VERB_WORDS[verb])) for verb in verbs
                 if any((perm, resource) in held for perm in VERB_PERMISSIONS.get(verb, (f"can_{verb}",)))]
        if words:
            colon, comma = (": ", ", ") if english() else ("：", "、")
            lines.append(f"{t(*RESOURCE_WORDS[resource])}{colon}{comma.join(words)}")
    return Markup("<br>").join(lines)


def may_open(endpoint: str) -> bool:
    """Whether the signed-in account may open ``endpoint`` ("View.method"), by the permission
    that page checks: templates show a button for it only then."""
    appbuilder = current_app.appbuilder
    needed = endpoint_permission(appbuilder, endpoint)
    return needed is not None and appbuilder.sm.has_access(*needed)
