"""The admin pages (Flask-AppBuilder views), registered on the AppBuilder in their menus."""

from __future__ import annotations

from ..i18n import t


def register_views(appbuilder) -> None:
    """Every admin page, grouped into menus (app.web registers them with the REST resources)."""
    from .hierarchy import GradeView, JurisdictionView, SchoolClassView, SchoolView
    from .logs import AuditEventView, CodeItemView, PersonalDataAccessView
    from .students import FamilyMemberView, RegistryNumberView, StudentView

    registry = ("Registry", t("学籍管理", "Registry"), "fa-id-card")
    org = ("Organisation", t("机构设置", "Organisation"), "fa-sitemap")
    system = ("System", t("系统", "System"), "fa-cogs")

    def add(view, name, zh, en, icon, category):
        cat, cat_label, cat_icon = category
        appbuilder.add_view(view, name, label=t(zh, en), icon=icon, category=cat,
                            category_label=cat_label, category_icon=cat_icon)

    from .requests import InboxView, RequestView

    add(InboxView, "Inbox", "待办", "Inbox", "fa-inbox", registry)
    add(StudentView, "Students", "学生名册", "Students", "fa-users", registry)
    add(RequestView, "Requests", "业务办理", "Requests", "fa-tasks", registry)
    from .excel import ImportView

    add(ImportView, "Imports", "Excel 导入导出", "Excel import/export", "fa-file-excel-o", registry)
    from .problems import ProblemCaseView

    add(ProblemCaseView, "Problems", "问题学籍", "Problem records", "fa-exclamation-triangle", registry)
    add(RegistryNumberView, "RegistryNumbers", "学籍号记录", "Registry numbers", "fa-hashtag", registry)
    appbuilder.add_view_no_menu(FamilyMemberView)
    add(JurisdictionView, "Jurisdictions", "行政区划", "Jurisdictions", "fa-map", org)
    add(SchoolView, "Schools", "学校", "Schools", "fa-university", org)
    add(GradeView, "Grades", "年级", "Grades", "fa-list-ol", org)
    add(SchoolClassView, "Classes", "班级", "Classes", "fa-th", org)
    add(CodeItemView, "CodeTables", "代码表", "Code tables", "fa-book", system)
    add(AuditEventView, "AuditLog", "操作日志", "Audit log", "fa-history", system)
    add(PersonalDataAccessView, "PersonalDataLog", "个人信息查看记录", "Personal data views",
        "fa-eye", system)
    from .policy import PolicyView

    add(PolicyView, "Policy", "政策规则", "Policy", "fa-gavel", system)
