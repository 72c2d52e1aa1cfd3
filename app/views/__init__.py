"""The admin pages (Flask-AppBuilder views), registered on the AppBuilder in their menus.

A menu entry is shown to exactly the roles that hold the permission of the page it opens
(app/security/sync.py grants its menu_access from that permission): no entry that always fails.
"""

from __future__ import annotations

from ..i18n import t

REGISTRY = ("Registry", t("学籍管理", "Registry"), "fa-id-card")
EXCEL = ("Excel", t("Excel 导入导出", "Excel"), "fa-file-excel-o")
ORGANISATION = ("Organisation", t("机构设置", "Organisation"), "fa-sitemap")
SYSTEM = ("System", t("系统", "System"), "fa-cogs")
REPORTS = ("Reports", t("统计报表", "Reports"), "fa-bar-chart")


class _Menus:
    """Adds pages and links to the AppBuilder's menu, each under its category."""

    def __init__(self, appbuilder):
        self.appbuilder = appbuilder

    def view(self, view, name, label, icon, category) -> None:
        cat, cat_label, cat_icon = category
        self.appbuilder.add_view(view, name, label=label, icon=icon, category=cat,
                                 category_label=cat_label, category_icon=cat_icon)

    def link(self, name, endpoint, label, icon, category) -> None:
        """An entry opening ``endpoint`` ("View.method") of a view registered before."""
        cat, cat_label, cat_icon = category
        self.appbuilder.add_link(name, href=endpoint, label=label, icon=icon, category=cat,
                                 category_label=cat_label, category_icon=cat_icon)


def register_views(appbuilder) -> None:
    """Every admin page, grouped into menus (app.web registers them with the REST resources)."""
    from flask import current_app

    from .display import may_open
    from .excel import ImportView
    from .hierarchy import GradeView, JurisdictionView, SchoolClassView, SchoolView
    from .logs import AuditEventView, CodeItemView, PersonalDataAccessView
    from .policy import PolicyView
    from .problems import ProblemCaseView
    from .requests import InboxView, RequestView
    from .students import FamilyMemberView, RegistryNumberView, StudentView

    current_app.jinja_env.globals["may_open"] = may_open  # a button only where it works
    menu = _Menus(appbuilder)
    menu.view(InboxView, "Inbox", t("待办", "Inbox"), "fa-inbox", REGISTRY)
    menu.view(StudentView, "Students", t("学生名册", "Students"), "fa-users", REGISTRY)
    menu.link("NewStudent", "StudentView.add", t("新增学生", "New student"), "fa-user-plus", REGISTRY)
    menu.view(RequestView, "Requests", t("业务办理", "Requests"), "fa-tasks", REGISTRY)
    menu.link("TransferIn", "RequestView.transfer_in", t("转入申请", "Receive a transfer"),
              "fa-sign-in", REGISTRY)
    from .queued import QueuedView

    menu.view(QueuedView, "QueuedRequests", t("排队业务", "Queued requests"), "fa-clock-o", REGISTRY)
    from .cross_province import CrossProvinceView

    menu.view(CrossProvinceView, "CrossProvinceIn", t("毕业后跨省就学", "Graduates from other provinces"),
              "fa-exchange", REGISTRY)
    from .graduation import GraduationView

    menu.view(GraduationView, "Graduation", t("毕业办理", "Graduation"), "fa-graduation-cap", REGISTRY)
    from .schoolyear import PromotionView

    menu.view(PromotionView, "Promotion", t("学年升级", "Promotion"), "fa-level-up", REGISTRY)
    from .plans import EnrollmentPlanView

    menu.view(EnrollmentPlanView, "EnrollmentPlans", t("招生计划", "Enrollment plans"), "fa-calendar-plus-o",
              REGISTRY)
    menu.view(ProblemCaseView, "Problems", t("问题学籍", "Problem records"), "fa-exclamation-triangle",
              REGISTRY)
    from .quality import QualityView

    menu.view(QualityView, "QualityCampaigns", t("数据质量核查", "Data-quality verification"), "fa-check-circle",
              REGISTRY)
    menu.link("QualityMarks", "QualityView.school", t("核查登记", "Mark the forms"), "fa-check-square",
              REGISTRY)
    menu.view(RegistryNumberView, "RegistryNumbers", t("学籍号记录", "Registry numbers"), "fa-hashtag",
              REGISTRY)
    appbuilder.add_view_no_menu(FamilyMemberView)
    from .divisions import DivisionView

    appbuilder.add_view_no_menu(DivisionView)  # the forms' division picker asks it (engineer C)
    menu.view(ImportView, "Imports", t("导入记录", "Imports"), "fa-list", EXCEL)
    menu.link("ImportUpload", "ImportView.upload", t("导入学生", "Import students"), "fa-upload", EXCEL)
    from .admissions import AdmissionView

    menu.view(AdmissionView, "Admissions", t("导入录取名单", "Import admission lists"), "fa-graduation-cap", EXCEL)
    menu.link("DuplicateAdmissions", "AdmissionView.duplicates", t("重复录取", "Duplicate admissions"),
              "fa-clone", EXCEL)
    menu.link("Exports", "ImportView.exports", t("导出学生与确认表", "Export students and forms"),
              "fa-download", EXCEL)
    from .export_requests import ExportRequestView

    menu.view(ExportRequestView, "ExportRequests", t("导出审批", "Export approvals"), "fa-check", EXCEL)
    from .health import HealthView
    from .jobs import JobView

    appbuilder.add_view_no_menu(HealthView)

    menu.view(JobView, "Jobs", t("任务进度", "Jobs"), "fa-spinner", EXCEL)
    menu.view(JurisdictionView, "Jurisdictions", t("行政区划", "Jurisdictions"), "fa-map", ORGANISATION)
    menu.view(SchoolView, "Schools", t("学校", "Schools"), "fa-university", ORGANISATION)
    menu.view(GradeView, "Grades", t("年级", "Grades"), "fa-list-ol", ORGANISATION)
    menu.view(SchoolClassView, "Classes", t("班级", "Classes"), "fa-th", ORGANISATION)
    menu.view(CodeItemView, "CodeTables", t("代码表", "Code tables"), "fa-book", SYSTEM)
    menu.view(AuditEventView, "AuditLog", t("操作日志", "Audit log"), "fa-history", SYSTEM)
    menu.view(PersonalDataAccessView, "PersonalDataLog", t("个人信息查看记录", "Personal data views"),
              "fa-eye", SYSTEM)
    menu.view(PolicyView, "Policy", t("政策规则", "Policy"), "fa-gavel", SYSTEM)
    from .identity import IdentityView, PasswordLoanView, SecondFactorView  # identity controls

    menu.view(SecondFactorView, "SecondFactor", t("动态验证码", "Second factor"), "fa-mobile", SYSTEM)
    menu.view(PasswordLoanView, "PasswordLoans", t("借用密码登记", "Password lending"), "fa-key", SYSTEM)
    menu.view(IdentityView, "IdentityControls", t("身份安全", "Identity controls"), "fa-user-secret", SYSTEM)
    from .security_policy import SecurityPolicyView

    menu.view(SecurityPolicyView, "SecurityPolicy", t("安全策略", "Security policy"), "fa-shield", SYSTEM)
    from .duties import AccountApprovalView, CustomRoleView  # separation of duties (三权分立)

    menu.view(AccountApprovalView, "AccountApprovals", t("账号审批", "Account approvals"), "fa-check",
              SYSTEM)
    menu.view(CustomRoleView, "CustomRoles", t("自定义角色", "Custom roles"), "fa-id-badge", SYSTEM)
    from .reports import ReportView

    menu.view(ReportView, "MonthlyReport", t("月报", "Monthly report"), "fa-line-chart", REPORTS)
    from .report_verify import ReportSignoffView, ReportVerifyView, may_sign_off

    current_app.jinja_env.globals["may_sign_off"] = may_sign_off  # the report page's 签发 button

    # the verify page is public (no permission): every account finds it (app/security/sync.py)
    menu.view(ReportVerifyView, "ReportVerify", t("报表核验", "Check a report file"), "fa-check-square-o",
              REPORTS)
    appbuilder.add_view_no_menu(ReportSignoffView)  # 签发 and the signed files, from the report page
    from .statistics import StatisticsView, WatchView

    menu.view(StatisticsView, "SchoolStatistics", t("学校统计表", "School statistics"), "fa-table", REPORTS)
    menu.view(WatchView, "WatchLists", t("关注名单", "Watch lists"), "fa-eye", REPORTS)
