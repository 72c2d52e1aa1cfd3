"""History in words: what an audit row's action means (新建学籍, 休学生效 ...), and each change as
the item's header with its values by their labels — never an action key, a column name or a code."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from ...fields import MEMBER_FIELD_BY_NAME, STUDENT_FIELD_BY_NAME
from ...i18n import english, t
from ...models import Grade, Jurisdiction, School, SchoolClass
from ...policy.vocab import ACTIONS
from ...security import policy_settings
from ...security.roles import ROLES
from ..organisation import codes, divisions

ENTITY_WORDS = {"student": t("学籍", "student record"), "family_member": t("家庭成员", "family member"),
                "account": t("账号", "account"), "report": t("统计报表", "report"),
                "promotion_run": t("升级批次", "promotion run"), "school": t("学校", "school"),
                "quality_campaign": t("数据质量核查活动", "data-quality campaign"),
                "school_class": t("班级", "class"), "admission": t("录取", "admission"),
                "enrollment_plan": t("招生计划", "enrollment plan"),
                "role": t("自定义角色", "custom role"),
                "security_policy": t("安全策略", "security policy"),
                "export_request": t("导出申请", "export request")}
_RECORD = {
    "create": t("新建学籍", "record created"), "update": t("修改学籍信息", "record edited"),
    "delete": t("删除学籍", "record deleted"),
    "registered": t("注册核办完成", "registration approved"),
    "add_member": t("新增家庭成员", "family member added"),
    "update_member": t("修改家庭成员", "family member edited"),
    "delete_member": t("删除家庭成员", "family member deleted"),
    # the promotion batch (app/services/schoolyear/promotion.py)
    "promote": t("学年升级", "promoted a grade"), "promote_start": t("开始学年升级", "promotion started"),
    "promote_undo": t("撤销学年升级", "promotion undone"),
    # enrollment plans (app/services/schoolyear/plans.py)
    "plan_set": t("核定招生计划", "enrollment plan set"),
    "plan_apply": t("按招生计划建班", "classes created from the plan"),
    "plan_change_request": t("申请变更招生计划", "plan change requested"),
    "plan_change_approved": t("同意招生计划变更", "plan change approved"),
    "plan_change_rejected": t("不同意招生计划变更", "plan change rejected"),
    # admission lists (app/services/schoolyear/admissions.py, admission_cases.py)
    "admit_list": t("导入录取名单", "admission list committed"),
    "admission_pull": t("录取接续学籍", "record taken over on admission"),
    "admission_duplicate": t("重复录取", "duplicate admission"),
    "admission_resolved": t("重复录取裁定", "duplicate admission resolved"),
    "admission_move": t("重复录取裁定转入", "record moved by the duplicate ruling"),
    # the school's cohort actions (app/services/schoolyear/graduation.py, completion.py)
    "graduate_cohort": t("毕业办理", "cohort graduated"),
    "complete_cohort": t("结业办理", "cohort completed"),
    # data-quality verification (app/services/quality)
    "open_campaign": t("开启数据质量核查活动", "data-quality campaign opened"),
    "close_campaign": t("关闭数据质量核查活动", "data-quality campaign closed"),
    "quality_mark": t("数据质量核查登记", "confirmation forms marked"),
    "quality_scan": t("上传签字确认表", "signed confirmation form uploaded"),
    # export approval (app/services/exchange/export_requests.py)
    "export_requested": t("提交导出申请", "export request filed"),
    "export_made": t("生成导出文件（无需审批）", "export file made (no approval needed)"),
    "export_approved": t("批准导出", "export approved"), "export_refused": t("拒绝导出", "export refused"),
}
ACCOUNT_WORDS = {
    "create": t("新建账号", "account created"), "update": t("修改账号", "account edited"),
    "delete": t("删除账号", "account deleted"), "deactivate": t("停用账号", "account deactivated"),
    "reactivate": t("重新启用账号", "account reactivated"),
    "reset_password": t("重置密码", "password reset"),
    "change_password": t("修改本人密码", "own password changed"),
    "account_locked": t("账号锁定（密码错误次数过多）", "account locked (wrong passwords)"),
    "account_unlocked": t("解除账号锁定", "account unlocked"),
    # identity controls (app/services/organisation/identity.py, lending.py)
    "account_sealed": t("长期未使用，账号封存", "account sealed (unused)"),
    "account_unsealed": t("解除账号封存", "account unsealed"),
    "totp_enrolled": t("启用动态验证码", "second factor turned on"),
    "totp_reset": t("重置动态验证码", "second factor reset"),
    "password_loan_filed": t("申请借用密码登记", "password loan filed"),
    "password_loan_approved": t("批准借用密码", "password loan approved"),
    "password_loan_refused": t("拒绝借用密码", "password loan refused"),
    # separation of duties (app/services/organisation/approvals.py)
    "approval_requested": t("账号变更待安全管理员审批", "account change awaits approval"),
    "approve": t("安全管理员批准账号变更", "account change approved"),
    "refuse": t("安全管理员驳回账号变更", "account change refused"),
    "approval_withdrawn": t("账号不再可访问学生数据，撤回审批", "approval withdrawn (no student access left)"),
}
ROLE_WORDS = {  # custom roles (app/services/organisation/custom_roles.py)
    "create": t("新建自定义角色", "custom role created"), "update": t("修改自定义角色", "custom role edited"),
    "retire": t("停用自定义角色", "custom role retired"),
}
REPORT_WORDS = {  # app/services/reports/signing.py
    "sign_off": t("月报签发", "monthly report signed off"),
    "rotate_signing_key": t("更换报表签名密钥", "report signing key replaced"),
}
POLICY_WORDS = {  # the security policy (app/services/organisation/security_policy.py)
    "policy_changed": t("修改安全策略", "security policy changed"),
}
_STEPS = {
    "submit": t("提交申请", "request filed"), "approve": t("核办通过", "approved"),
    "reject": t("不予通过", "rejected"), "return": t("退回修改", "returned for correction"),
    "resubmit": t("修改后重新提交", "resubmitted"), "cancel": t("撤销申请", "request withdrawn"),
    "pull": t("调档完成", "file pulled"),
    "queue": t("登记排队，窗口开放时自动提交", "queued for its window"),
    "release": t("窗口开放，自动提交", "submitted as its window opened"),
    "release_failed": t("窗口开放时复核未通过，未提交", "not submitted: the rules refused it"),
    "unqueue": t("撤销排队", "queued request withdrawn"),
    "escalate": t("逾期上报，强制干预", "overdue: escalated"),
}
KIND_EN = {
    "register_new": "first-grade registration", "register_in_school": "in-school registration",
    "register_returnee": "returnee registration", "edit_field": "direct edit",
    "change_field": "key-item change", "transfer": "transfer", "suspend": "suspension",
    "resume": "resumption", "repeat": "repeating a grade", "skip": "skipping a grade",
    "dropout": "dropout", "withdraw": "withdrawal", "expel": "expulsion", "abroad": "going abroad",
    "death": "death", "graduate": "graduation", "complete": "completion", "promote": "promotion",
    "enroll": "enrolment", "enroll_cross_province": "cross-province enrolment",
    "delete_record": "record deletion", "assign_class": "class placement",
    "verify_data": "data-quality check", "revoke_graduation": "graduation rollback",
    "enter_corrections": "data-quality marks and corrections",
}
CHANNEL_WORDS = {
    "web": t("学籍页面", "record page"), "api": t("接口", "REST API"),
    "edit": t("编辑表单", "edit form"), "request": t("业务申请页面", "request page"),
    "lookup": t("转学查询", "transfer look-up"), "dup": t("重复身份证件号核查", "duplicate-ID check"),
    "report": t("导入检查结果下载", "import report download"),
}
_ITEMS = {
    "registry_no": t("学籍号", "Registry no."), "registry_kind": t("学籍号类型", "Number kind"),
    "status": t("学籍状态", "Status"), "registered": t("注册完成", "Registered"),
    "problem": t("问题学籍", "Problem record"), "hold_back": t("留级", "Held back"),
    "import_job_id": t("导入任务", "Import"), "school_id": t("学校", "School"),
    "grade_id": t("年级", "Grade"), "class_id": t("班级", "Class"),
    "name_pinyin": t("姓名拼音", "Name (pinyin)"), "photo": t("照片", "Photo"),
    "photo_type": t("照片格式", "Photo format"), "graduated_at": t("毕业时间", "Graduated"),
    "destination": t("去向", "Destination"),
    "created_by_id": t("录入人", "Entered by"),
    "roles": t("角色", "Roles"), "active": t("启用", "Active"), "binding": t("所属单位", "Bound to"),
    "locked_at": t("锁定时间", "Locked at"), "username": t("用户名", "Username"),
    "first_name": t("姓名", "Name"), "last_name": t("姓名", "Name"),
    "email": t("电子邮箱", "E-mail"), "seq": t("序号", "No."),
    "node": t("单位", "Unit"), "month": t("月份", "Month"), "key_id": t("签名密钥", "Signing key"),
    "digest": t("数据摘要", "Digest"),
    # admission lists (app/services/schoolyear/admissions.py, admission_cases.py)
    "school": t("学校", "School"), "job": t("导入任务", "Import"), "new": t("新建学籍", "New records"),
    "pulled": t("接续已有学籍", "Records taken over"), "duplicate": t("重复录取", "Duplicates"),
    "unchanged": t("未变", "Unchanged"), "schools": t("涉及学校", "Schools"),
    "kept": t("保留录取的学校", "School kept"), "dropped": t("撤销录取的学校", "Schools dropped"),
    "reason": t("理由", "Reason"),
    # export approval (app/services/exchange/export_requests.py)
    "rows": t("人数", "Students"), "sha256": t("文件 SHA-256", "File SHA-256"), "rule": t("规则", "Rule"),
    # enrollment plans (app/services/schoolyear/plans.py, plan_changes.py)
    "school_year": t("入学年份", "Intake year"), "entry_grade": t("入学年级", "Entry grade"),
    "plan_classes": t("计划新班", "Planned classes"), "seats": t("计划招生人数", "Planned seats"),
    "classes_created": t("新建班级数", "Classes created"), "grade_created": t("新建年级", "Grade created"),
    "change_request": t("变更申请", "Change request"), "comment": t("意见", "Comment"),
    # data-quality verification (app/services/quality)
    "campaign": t("核查活动", "Campaign"), "campaign_id": t("核查活动", "Campaign"),
    "mark": t("标记", "Mark"), "marked": t("本次标记", "Marked now"),
    "already": t("此前已标记", "Marked before"), "skipped": t("尚未到这一步", "Not ready"),
    "corrected": t("有更正", "Corrected"), "region": t("区域", "Region"),
    "starts_on": t("开始日期", "From"), "ends_on": t("结束日期", "To"),
    "scan": t("签字确认表", "Signed form"), "size": t("文件大小", "Size"),
    "quality_form_scan": t("签字确认表照片", "Photo of the signed form"),
    "last_login": t("最近登录", "Last sign-in"), "sealed_at": t("封存时间", "Sealed at"),
    "loan": t("借用登记", "Loan entry"), "lent_to": t("借用人", "Lent to"),
    "from": t("开始", "From"), "to": t("结束", "To"),
}
_CODED = {"status": "student_status", "registry_kind": "registry_kind"}
_REFERENCES = {"school_id": School, "grade_id": Grade, "class_id": SchoolClass}


def kind_words(kind: str) -> str:
    """A kind of request or business in the reader's language."""
    zh = ACTIONS.get(kind, (kind,))[0]
    return KIND_EN.get(kind, zh) if english() else zh


def action_words(action: str, entity: str | None = "student") -> str:
    """What an audit row's action means, in the reader's language."""
    if action.startswith("request_") and action[8:] in _STEPS:
        return str(_STEPS[action[8:]])
    if action.startswith("apply_"):
        return f"{kind_words(action[6:])}{' took effect' if english() else '生效'}"
    table = ACCOUNT_WORDS if entity == "account" else ROLE_WORDS if entity == "role" else _RECORD
    words = table.get(action) or REPORT_WORDS.get(action) or POLICY_WORDS.get(action)
    return str(words) if words is not None else action.replace("_", " ")


def channel_words(channel: str) -> str:
    """Through what a personal-data view happened."""
    words = CHANNEL_WORDS.get(channel)
    return str(words) if words is not None else channel


def item_words(name: str) -> str:
    """A record's or an account's item by its header (id_number_enc -> 身份证件号)."""
    base = name.removeprefix("member.")
    for suffix in ("_enc", "_blind"):
        base = base.removesuffix(suffix)
    base = {"id": "id_number", "registry": "registry_no"}.get(base, base)
    spec = STUDENT_FIELD_BY_NAME.get(base) or MEMBER_FIELD_BY_NAME.get(base)
    if spec is not None:
        header = spec.label_en if english() else spec.header
        return f"{t('家庭成员', 'family member ')}{header}" if name.startswith("member.") else header
    words = _ITEMS.get(base)
    if words is None and policy_settings.words(base):  # a security-policy setting
        words = t(*policy_settings.words(base))
    return str(words) if words is not None else base.replace("_", " ")


def fields_words(fields: str) -> str:
    """A personal-data log row's items ("id_number,phone") as words."""
    return "、".join(dict.fromkeys(item_words(f.strip()) for f in (fields or "").split(",") if f.strip()))


def _binding(session: Session, value: str) -> str:
    kind, _, code = value.partition(":")
    model = School if kind == "school" else Jurisdiction
    row = session.query(model).filter(model.code == code).one_or_none()
    return f"{row.name}（{code}）" if row is not None else code


def value_words(session: Session, name: str, value) -> str:
    """A logged value as a person reads it: a code by its label, a row by its name, 是/否."""
    if value is None or value == "":
        return ""
    base = name.removesuffix("_enc")
    spec = STUDENT_FIELD_BY_NAME.get(base) or MEMBER_FIELD_BY_NAME.get(base)
    if isinstance(value, bool) or (spec is not None and spec.kind == "bool"):
        return codes.label(session, "yes_no", "1" if value in (True, 1, "1", "true") else "0")
    if spec is not None and spec.code_table:
        return codes.label(session, spec.code_table, str(value))
    if spec is not None and spec.kind in ("region", "place") and str(value).isdigit():
        return divisions.full_name(str(value)) or str(value)
    if base in _CODED:
        return codes.label(session, _CODED[base], str(value))
    if base in _REFERENCES:
        row = session.get(_REFERENCES[base], value)
        return row.name if row is not None else str(value)
    if base == "roles":
        return "、".join(_role(r) for r in value)
    if base == "binding":
        return _binding(session, str(value))
    if isinstance(value, (datetime, date)) or base in ("locked_at", "graduated_at"):
        return str(value)[:16].replace("T", " ")
    return str(value)


def _role(name: str) -> str:
    spec = ROLES.get(name)
    return (spec.label_en if english() else spec.label) if spec else name


def change_lines(session: Session, changes: dict | None) -> dict[str, dict]:
    """{item's header: {"old": words, "new": words}} of an audit row's changes; a personal value
    (never logged) reads "已修改"."""
    out: dict[str, dict] = {}
    for name, change in (changes or {}).items():
        if not isinstance(change, dict):
            change = {"new": change}
        if change.get("changed"):
            out[item_words(name)] = {"new": str(t("已修改（内容不记录）", "changed (not logged)"))}
            continue
        out[item_words(name)] = {k: value_words(session, name, change[k])
                                 for k in ("old", "new") if k in change}
    return out


_RETIRED = {"record deleted": t("学籍已删除", "record deleted"),
            "registration rejected": t("注册未通过", "registration rejected")}


def retired_words(reason: str | None) -> str:
    """Why a registry number was retired, in the reader's language (the log keeps English keys)."""
    if not reason:
        return ""
    if reason.startswith("replaced by "):
        number = reason.removeprefix("replaced by ")
        return f"replaced by {number}" if english() else f"已换发正式学籍号 {number}"
    words = _RETIRED.get(reason)
    return str(words) if words is not None else reason
