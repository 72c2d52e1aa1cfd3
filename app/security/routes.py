"""Every door deliberate: the one table of every URL the application serves.

Each row says which endpoint answers which methods, who may use it, and which rows it reaches
through the jurisdiction scope.  A view registers only the methods its rows name (Flask-AppBuilder
would otherwise hand every ModelView its add / edit / delete / download / action routes), a request
for an endpoint the table does not hold is refused, and a test holds the running application —
every URL rule and every permission — against this table and against the role grants.

``who``: ``anyone`` (no sign-in needed), ``every account`` (any signed-in account, whatever its
role), or ``function[,function]@levels`` joined by ``+``, where levels are ``all``, ``bureau``
(province, city and county) or one level.  ``scoped``: the model whose rows the route reads or
writes — always through the account's jurisdiction — or ``""`` when it reaches no such row.
"""

from __future__ import annotations

from dataclasses import dataclass

from .roles import BUREAU_LEVELS, FUNCTIONS, LEVELS, ROLES


@dataclass(frozen=True)
class Route:
    endpoint: str  # "ViewClass.method", as Flask names it
    methods: frozenset[str]
    who: str
    scoped: str  # model name, or "" when the route touches no jurisdiction-bound row

    @property
    def view(self) -> str:
        return self.endpoint.split(".", 1)[0]

    @property
    def method(self) -> str:
        return self.endpoint.split(".", 1)[1]

    @property
    def roles(self) -> frozenset[str]:
        return roles_of(self.who)


ANYONE, EVERY_ACCOUNT = "anyone", "every account"

_LEVEL_SETS = {"all": LEVELS, "bureau": BUREAU_LEVELS, **{lv: (lv,) for lv in LEVELS}}


def roles_of(who: str) -> frozenset[str]:
    """The role names ``who`` stands for (``anyone`` and ``every account``: all twelve)."""
    if who in (ANYONE, EVERY_ACCOUNT):
        return frozenset(ROLES)
    out: set[str] = set()
    for part in who.split("+"):
        functions, _, levels = part.strip().partition("@")
        for function in functions.split(","):
            if function.strip() not in FUNCTIONS or levels.strip() not in _LEVEL_SETS:
                raise ValueError(f"route table: cannot read who={who!r}")
            out |= {f"{lv}_{function.strip()}" for lv in _LEVEL_SETS[levels.strip()]}
    return frozenset(out)


READ = "registrar,supervisor@all"
SCHOOL_REGISTRAR = "registrar@school"
SYSADMIN = "sysadmin@all"
BUREAU_SYSADMIN = "sysadmin@bureau"
ORGANISATION = "registrar,supervisor,sysadmin@all"  # schools, grades, classes: everyone reads
SCHOOL_EDIT = "registrar@school+sysadmin@all"  # grades and classes
LOGS = "supervisor,auditor@all"  # 三权分立: the auditor's, no longer the system administrator's
SECADMIN = "secadmin@all"  # approvals of account changes, custom roles, unlocking
ACCOUNT_READ = "sysadmin,secadmin@all"
QUALITY_READ = "registrar,supervisor@all+sysadmin@province"  # 数据质量核查: campaigns and progress
QUALITY_OPEN = "registrar,sysadmin@province"

_ROWS: list[tuple[str, str, str, str]] = [
    # endpoint                              methods      who                     scoped
    # -- signing in, the landing page, language, static files --------------------------------
    ("static", "GET", ANYONE, ""),
    ("appbuilder.static", "GET", ANYONE, ""),
    ("HomeView.index", "GET", ANYONE, "Student"),  # counts of one's own jurisdiction, once signed in
    ("AuthDBView.login", "GET POST", ANYONE, ""),
    ("AuthDBView.logout", "GET", ANYONE, ""),
    ("LocaleView.index", "GET", ANYONE, ""),
    ("UtilView.back", "GET", ANYONE, ""),
    ("SecurityApi.login", "POST", ANYONE, ""),
    ("SecurityApi.refresh", "POST", ANYONE, ""),  # needs a refresh token
    # -- one's own account --------------------------------------------------------------------
    ("AccountView.userinfo", "GET", EVERY_ACCOUNT, "XuejiUser"),  # one's own
    ("AccountView.action", "POST", EVERY_ACCOUNT, "XuejiUser"),  # 修改密码 / 编辑资料 of one's own,
    # and an administrator's 重置密码 (each action checks its own permission)
    ("UserInfoEditView.this_form_get", "GET", EVERY_ACCOUNT, ""),
    ("UserInfoEditView.this_form_post", "POST", EVERY_ACCOUNT, ""),
    ("ResetMyPasswordView.this_form_get", "GET", EVERY_ACCOUNT, ""),
    ("ResetMyPasswordView.this_form_post", "POST", EVERY_ACCOUNT, ""),
    # identity controls: one's own second factor (also the sign-in's second step) and one's own
    # entries of the password-lending register; a system administrator decides those of the
    # subtree; a security administrator unseals dormant accounts and resets lost second factors
    ("SecondFactorView.index", "GET", EVERY_ACCOUNT, ""),
    ("SecondFactorView.start", "POST", EVERY_ACCOUNT, ""),
    ("SecondFactorView.confirm", "POST", EVERY_ACCOUNT, ""),
    ("SecondFactorView.verify", "GET POST", EVERY_ACCOUNT, ""),
    ("PasswordLoanView.index", "GET", EVERY_ACCOUNT, "PasswordLoan"),  # one's own, and the subtree's
    ("PasswordLoanView.file", "POST", EVERY_ACCOUNT, ""),  # for one's own account only
    ("PasswordLoanView.decide", "POST", SYSADMIN, "PasswordLoan"),  # never one's own
    ("IdentityView.index", "GET", "secadmin@all", "XuejiUser"),
    ("IdentityView.unseal", "POST", "secadmin@all", "XuejiUser"),
    ("IdentityView.reset_second_factor", "POST", "secadmin@all", "XuejiUser"),
    # the security policy (安全策略): the province's security administrator changes it
    ("SecurityPolicyView.index", "GET", "secadmin,auditor@all", ""),
    ("SecurityPolicyView.save", "POST", "secadmin@province", ""),
    # -- the API's description ------------------------------------------------------------------
    ("OpenApi.get", "GET", EVERY_ACCOUNT, ""),
    ("SwaggerView.show", "GET", EVERY_ACCOUNT, ""),
    # -- accounts and roles (system administrators, inside their subtree) -----------------------
    ("AccountView.list", "GET", ACCOUNT_READ, "XuejiUser"),
    ("AccountView.show", "GET", ACCOUNT_READ, "XuejiUser"),  # with 解除锁定 for a security admin
    ("AccountView.add", "GET POST", SYSADMIN, "XuejiUser"),
    ("AccountView.edit", "GET POST", SYSADMIN, "XuejiUser"),
    ("ScopedResetPasswordView.this_form_get", "GET", SYSADMIN, "XuejiUser"),
    ("ScopedResetPasswordView.this_form_post", "POST", SYSADMIN, "XuejiUser"),
    ("ReadOnlyRoleView.list", "GET", ACCOUNT_READ, ""),
    ("ReadOnlyRoleView.show", "GET", ACCOUNT_READ, ""),
    # -- separation of duties: account changes granting student access wait for approval ------
    ("AccountApprovalView.index", "GET", SECADMIN, "AccountApproval"),  # pending, in one's subtree
    ("AccountApprovalView.decide", "POST", SECADMIN, "AccountApproval"),  # never one's own change
    ("CustomRoleView.index", "GET", SECADMIN, ""),  # custom roles from the permission catalogue
    ("CustomRoleView.add", "GET POST", SECADMIN, ""),
    ("CustomRoleView.edit", "GET POST", SECADMIN, ""),
    ("CustomRoleView.retire", "POST", SECADMIN, ""),
    # -- students, their families and numbers --------------------------------------------------
    ("StudentView.list", "GET", READ, "Student"),
    ("StudentView.show", "GET", READ, "Student"),
    ("StudentView.photo", "GET", READ, "Student"),
    ("StudentView.add", "GET POST", SCHOOL_REGISTRAR, "Student"),
    ("StudentView.edit", "GET POST", SCHOOL_REGISTRAR, "Student"),
    ("StudentView.delete", "POST", SCHOOL_REGISTRAR, "Student"),
    ("StudentView.action", "POST", READ, "Student"),  # 注册核办通过 on one record
    ("StudentView.action_post", "POST", READ, "Student"),  # ... on the ticked records
    ("FamilyMemberView.list", "GET", READ, "FamilyMember"),
    ("FamilyMemberView.show", "GET", READ, "FamilyMember"),
    ("FamilyMemberView.add", "GET POST", SCHOOL_REGISTRAR, "FamilyMember"),
    ("FamilyMemberView.edit", "GET POST", SCHOOL_REGISTRAR, "FamilyMember"),
    ("FamilyMemberView.delete", "POST", SCHOOL_REGISTRAR, "FamilyMember"),
    ("DivisionView.children", "GET", SCHOOL_REGISTRAR, ""),  # the division picker of the forms
    ("RegistryNumberView.list", "GET", READ, "RegistryNumber"),
    ("RegistryNumberView.show", "GET", READ, "RegistryNumber"),
    # -- registry business ----------------------------------------------------------------------
    ("InboxView.index", "GET", READ, "Request"),
    ("InboxView.bulk", "POST", READ, "Request"),
    ("InboxView.read_all", "POST", READ, ""),  # one's own messages: marked read for oneself
    ("RequestView.list", "GET", READ, "Request"),
    ("RequestView.show", "GET", READ, "Request"),
    ("RequestView.attachment", "GET", READ, "Request"),
    ("RequestView.new", "GET POST", SCHOOL_REGISTRAR, "Student"),
    ("RequestView.transfer_in", "GET POST", SCHOOL_REGISTRAR, "Student"),  # exact look-up, logged
    ("RequestView.decide", "POST", READ, "Request"),
    ("RequestView.resubmit", "POST", SCHOOL_REGISTRAR, "Request"),
    ("RequestView.cancel", "POST", SCHOOL_REGISTRAR, "Request"),
    ("RequestView.pull", "POST", SCHOOL_REGISTRAR, "Request"),
    ("QueuedView.index", "GET", READ, "QueuedRequest"),  # 排队业务: filed outside their window
    ("QueuedView.cancel", "POST", SCHOOL_REGISTRAR, "QueuedRequest"),  # the filing school's own
    ("CrossProvinceView.index", "GET POST", SCHOOL_REGISTRAR, "Student"),  # by registry no., logged
    ("GraduationView.index", "GET", SCHOOL_REGISTRAR, "Student"),  # 毕业: one's own school's cohort
    ("GraduationView.run", "POST", SCHOOL_REGISTRAR, "Student"),
    ("GraduationView.complete", "POST", SCHOOL_REGISTRAR, "Student"),  # 结业 of ticked students
    ("PromotionView.index", "GET", "registrar,supervisor@bureau", "PromotionRun"),  # 升级: blockers
    ("PromotionView.run", "POST", "registrar@bureau", "PromotionRun"),  # of a node in one's subtree
    ("PromotionView.undo", "POST", "registrar@bureau", "PromotionRun"),
    ("HealthView.index", "GET", ANYONE, ""),  # the bare status: no personal data
    ("JobApi.get_list", "GET", READ, "JobRun"),
    ("JobApi.get", "GET", READ, "JobRun"),
    ("JobApi.cancel", "POST", "registrar@all", "JobRun"),
    ("JobView.index", "GET", READ, "JobRun"),  # 任务: long work and its progress
    ("JobView.show", "GET", READ, "JobRun"),
    ("JobView.progress", "GET", READ, "JobRun"),
    ("JobView.cancel", "POST", "registrar@all", "JobRun"),  # its starter (a bureau: its subtree's)
    ("EnrollmentPlanView.index", "GET", READ, "EnrollmentPlan"),  # 招生计划: one's own or below
    ("EnrollmentPlanView.set_plan", "POST", "registrar@bureau", "EnrollmentPlan"),
    ("EnrollmentPlanView.apply", "POST", "registrar@bureau", "EnrollmentPlan"),
    ("EnrollmentPlanView.decide", "POST", "registrar@bureau", "EnrollmentPlanChange"),
    ("EnrollmentPlanView.request_change", "POST", SCHOOL_REGISTRAR, "EnrollmentPlan"),  # its own
    ("ProblemCaseView.list", "GET", READ, "ProblemCase"),
    ("ProblemCaseView.show", "GET", READ, "ProblemCase"),
    ("ProblemCaseView.evidence", "GET", READ, "ProblemCase"),
    ("ProblemCaseView.confirm", "POST", "registrar@all", "ProblemCase"),
    ("ProblemCaseView.withdraw", "POST", "registrar@all", "ProblemCase"),
    ("ProblemCaseView.arbitrate", "POST", "registrar@all", "ProblemCase"),
    ("ProblemCaseView.detect", "POST", "registrar@all", "ProblemCase"),
    # -- 数据质量核查: the province opens campaigns, every level reads progress, schools mark ------
    ("QualityView.index", "GET", QUALITY_READ, "QualityCampaign"),  # those of or over one's node
    ("QualityView.progress", "GET", QUALITY_READ, "QualityCampaign"),  # ?node= inside both
    ("QualityView.open", "POST", QUALITY_OPEN, "QualityCampaign"),  # a division of one's province
    ("QualityView.close", "POST", QUALITY_OPEN, "QualityCampaign"),
    ("QualityView.school", "GET", SCHOOL_REGISTRAR, "QualityForm"),  # one's own school's classes
    ("QualityView.mark", "POST", SCHOOL_REGISTRAR, "QualityForm"),
    ("QualityView.upload", "POST", SCHOOL_REGISTRAR, "QualityForm"),
    ("QualityView.scan", "GET", SCHOOL_REGISTRAR, "QualityForm"),  # a signed form's photo, logged
    ("QualityView.printable", "GET", SCHOOL_REGISTRAR, "Student"),  # one class's forms
    # -- Excel in and out -----------------------------------------------------------------------
    ("ImportView.list", "GET", "registrar@all", "ImportJob"),
    ("ImportView.template", "GET", "registrar@all", "School"),
    ("ImportView.upload", "GET POST", SCHOOL_REGISTRAR, "School"),
    ("ImportView.show", "GET", "registrar@all", "ImportJob"),  # the job's page
    ("ImportView.progress", "GET", "registrar@all", "ImportJob"),
    ("ImportView.report", "GET", "registrar@all", "ImportJob"),
    ("ImportView.commit", "POST", SCHOOL_REGISTRAR, "ImportJob"),
    ("ImportView.students_xlsx", "GET", READ, "Student"),
    ("ImportView.confirmation", "GET", READ, "Student"),
    ("ImportView.exports", "GET", READ, "School"),  # the page of both: which school, which format
    # 导出审批: exports the rules hold wait for a supervisor of their node or one above
    ("ExportRequestView.list", "GET", READ, "ExportRequest"),
    ("ExportRequestView.show", "GET", READ, "ExportRequest"),
    ("ExportRequestView.file", "POST", READ, "ExportRequest"),  # a held export of one's own scope
    ("ExportRequestView.approve", "POST", "supervisor@all", "ExportRequest"),  # never one's own
    ("ExportRequestView.refuse", "POST", "supervisor@all", "ExportRequest"),
    ("ExportRequestView.download", "GET", READ, "ExportRequest"),  # its requester, once approved
    ("ExportRequestApi.get_list", "GET", READ, "ExportRequest"),  # one's own; a supervisor's: all in scope
    ("ExportRequestApi.get", "GET", READ, "ExportRequest"),
    ("ExportRequestApi.post_export", "POST", READ, "ExportRequest"),  # a job makes it: held, or approved at once
    ("ExportRequestApi.decide", "POST", "supervisor@all", "ExportRequest"),  # approve / refuse, never one's own
    ("ExportRequestApi.download", "GET", READ, "ExportRequest"),  # its requester, once approved
    ("AdmissionView.index", "GET", SCHOOL_REGISTRAR, "ImportJob"),  # 导入录取名单: one's own lists
    ("AdmissionView.template", "GET", SCHOOL_REGISTRAR, "School"),
    ("AdmissionView.upload", "POST", SCHOOL_REGISTRAR, "School"),  # into one's own school only
    ("AdmissionView.job", "GET", SCHOOL_REGISTRAR, "ImportJob"),
    ("AdmissionView.commit", "POST", SCHOOL_REGISTRAR, "ImportJob"),
    ("AdmissionView.duplicates", "GET", "registrar@bureau", "Admission"),  # 重复录取 it decides
    ("AdmissionView.resolve", "POST", "registrar@bureau", "Admission"),
    # -- organisation ---------------------------------------------------------------------------
    ("JurisdictionView.list", "GET", "registrar,supervisor,sysadmin@bureau", "Jurisdiction"),
    ("JurisdictionView.show", "GET", "registrar,supervisor,sysadmin@bureau", "Jurisdiction"),
    ("JurisdictionView.add", "GET POST", BUREAU_SYSADMIN, "Jurisdiction"),
    ("JurisdictionView.edit", "GET POST", BUREAU_SYSADMIN, "Jurisdiction"),
    ("JurisdictionView.delete", "POST", BUREAU_SYSADMIN, "Jurisdiction"),
    ("SchoolView.list", "GET", ORGANISATION, "School"),
    ("SchoolView.show", "GET", ORGANISATION, "School"),
    ("SchoolView.add", "GET POST", BUREAU_SYSADMIN, "School"),
    ("SchoolView.edit", "GET POST", BUREAU_SYSADMIN, "School"),
    ("SchoolView.delete", "POST", BUREAU_SYSADMIN, "School"),
    ("GradeView.list", "GET", ORGANISATION, "Grade"),
    ("GradeView.show", "GET", ORGANISATION, "Grade"),
    ("GradeView.add", "GET POST", SCHOOL_EDIT, "Grade"),
    ("GradeView.edit", "GET POST", SCHOOL_EDIT, "Grade"),
    ("GradeView.delete", "POST", SCHOOL_EDIT, "Grade"),
    ("SchoolClassView.list", "GET", ORGANISATION, "SchoolClass"),
    ("SchoolClassView.show", "GET", ORGANISATION, "SchoolClass"),
    ("SchoolClassView.add", "GET POST", SCHOOL_EDIT, "SchoolClass"),
    ("SchoolClassView.edit", "GET POST", SCHOOL_EDIT, "SchoolClass"),
    ("SchoolClassView.delete", "POST", SCHOOL_EDIT, "SchoolClass"),
    # -- system ---------------------------------------------------------------------------------
    ("CodeItemView.list", "GET", ORGANISATION, ""),
    ("CodeItemView.show", "GET", ORGANISATION, ""),
    ("CodeItemView.edit", "GET POST", "sysadmin@province", ""),
    ("AuditEventView.list", "GET", LOGS, "AuditEvent"),
    ("AuditEventView.show", "GET", LOGS, "AuditEvent"),
    ("PersonalDataAccessView.list", "GET", LOGS, "PersonalDataAccess"),
    ("PersonalDataAccessView.show", "GET", LOGS, "PersonalDataAccess"),
    ("PolicyView.index", "GET", ORGANISATION, ""),
    ("PolicyView.history", "GET", ORGANISATION, ""),
    ("PolicyView.version", "GET", ORGANISATION, ""),
    ("PolicyView.edit", "GET", BUREAU_SYSADMIN, ""),
    ("PolicyView.preview", "POST", BUREAU_SYSADMIN, ""),
    ("PolicyView.activate", "POST", BUREAU_SYSADMIN, ""),
    # -- 月报: the node asked for must be the account's own or lie below it ---------------------
    ("ReportView.monthly", "GET", READ, "MonthlyReport"),  # the stored report of the node's month
    ("ReportView.monthly_json", "GET", READ, "MonthlyReport"),  # the same report as JSON, for the charts
    ("ReportView.download", "GET", READ, "MonthlyReport"),  # its xlsx / PDF, made with it
    ("ReportView.generate", "POST", READ, "MonthlyReport"),  # queues the report_monthly job
    # -- signed reports: anyone checks a file; a node's supervisor signs its month off ----------
    ("ReportVerifyView.index", "GET", ANYONE, ""),  # the form and the published public keys
    ("ReportVerifyView.check", "POST", ANYONE, ""),  # an uploaded file -> its verdict
    ("ReportSignoffView.sign", "POST", "supervisor@all", "ReportSignoff"),  # its own node only
    ("ReportSignoffView.download", "GET", READ, "ReportSignoff"),  # signed xlsx / PDF
    # -- 学校统计表 and 关注名单: the node asked for must lie in the account's jurisdiction ----------
    ("StatisticsView.index", "GET", READ, "Student"),  # counts of the node's students and classes
    ("StatisticsView.xlsx", "GET", READ, "Student"),  # the same table as a workbook
    ("WatchView.index", "GET", READ, "Student"),  # who left and was received nowhere (masked), dropouts
    # -- REST API (JWT only) --------------------------------------------------------------------
    ("JurisdictionApi.get_list", "GET", "registrar,supervisor,sysadmin@bureau", "Jurisdiction"),
    ("JurisdictionApi.get", "GET", "registrar,supervisor,sysadmin@bureau", "Jurisdiction"),
    ("JurisdictionApi.post", "POST", BUREAU_SYSADMIN, "Jurisdiction"),
    ("JurisdictionApi.put", "PUT", BUREAU_SYSADMIN, "Jurisdiction"),
    ("JurisdictionApi.delete", "DELETE", BUREAU_SYSADMIN, "Jurisdiction"),
    ("SchoolApi.get_list", "GET", ORGANISATION, "School"),
    ("SchoolApi.get", "GET", ORGANISATION, "School"),
    ("SchoolApi.post", "POST", BUREAU_SYSADMIN, "School"),
    ("SchoolApi.put", "PUT", BUREAU_SYSADMIN, "School"),
    ("SchoolApi.delete", "DELETE", BUREAU_SYSADMIN, "School"),
    ("GradeApi.get_list", "GET", ORGANISATION, "Grade"),
    ("GradeApi.get", "GET", ORGANISATION, "Grade"),
    ("GradeApi.post", "POST", SCHOOL_EDIT, "Grade"),
    ("GradeApi.put", "PUT", SCHOOL_EDIT, "Grade"),
    ("GradeApi.delete", "DELETE", SCHOOL_EDIT, "Grade"),
    ("SchoolClassApi.get_list", "GET", ORGANISATION, "SchoolClass"),
    ("SchoolClassApi.get", "GET", ORGANISATION, "SchoolClass"),
    ("SchoolClassApi.post", "POST", SCHOOL_EDIT, "SchoolClass"),
    ("SchoolClassApi.put", "PUT", SCHOOL_EDIT, "SchoolClass"),
    ("SchoolClassApi.delete", "DELETE", SCHOOL_EDIT, "SchoolClass"),
    ("StudentApi.get_list", "GET", READ, "Student"),
    ("StudentApi.get", "GET", READ, "Student"),
    ("StudentApi.post", "POST", SCHOOL_REGISTRAR, "Student"),
    ("StudentApi.put", "PUT", SCHOOL_REGISTRAR, "Student"),
    ("StudentApi.delete", "DELETE", SCHOOL_REGISTRAR, "Student"),
    ("FamilyMemberApi.get_list", "GET", READ, "FamilyMember"),
    ("FamilyMemberApi.get", "GET", READ, "FamilyMember"),
    ("FamilyMemberApi.post", "POST", SCHOOL_REGISTRAR, "FamilyMember"),
    ("FamilyMemberApi.put", "PUT", SCHOOL_REGISTRAR, "FamilyMember"),
    ("FamilyMemberApi.delete", "DELETE", SCHOOL_REGISTRAR, "FamilyMember"),
    ("RequestApi.get_list", "GET", READ, "Request"),
    ("RequestApi.get", "GET", READ, "Request"),
    ("RequestApi.inbox", "GET", READ, "Request"),
    ("MessageApi.listing", "GET", READ, ""),  # one's own messages, read or unread
    ("MessageApi.read", "POST", READ, ""),  # ... marked read for oneself
    ("RequestApi.post", "POST", SCHOOL_REGISTRAR, "Student"),
    ("RequestApi.decide", "POST", READ, "Request"),  # also resubmit, cancel, pull (the requester's)
    ("RequestApi.lookup", "POST", SCHOOL_REGISTRAR, "Student"),  # exact look-up, logged
    ("QueuedRequestApi.get_list", "GET", READ, "QueuedRequest"),  # 排队业务 (?status=)
    ("QueuedRequestApi.get", "GET", READ, "QueuedRequest"),
    ("QueuedRequestApi.cancel", "POST", SCHOOL_REGISTRAR, "QueuedRequest"),  # the filing school's
    ("ReportSignoffApi.signoff", "POST", "supervisor@all", "ReportSignoff"),  # its own node only
    ("ReportSignoffApi.signoff_state", "GET", READ, "ReportSignoff"),
    ("StatisticsApi.table", "GET", READ, "Student"),  # 学校统计表 of ?node= inside the jurisdiction
    ("ReportApi.monthly", "GET", READ, "MonthlyReport"),  # 月报 of ?node=&month= inside the jurisdiction
    ("ReportApi.generate", "POST", READ, "MonthlyReport"),  # queues the report_monthly job (202)
    ("AdmissionApi.upload", "POST", SCHOOL_REGISTRAR, "ImportJob"),  # 录取名单: check, commit
    ("AdmissionApi.show", "GET", SCHOOL_REGISTRAR, "ImportJob"),
    ("AdmissionApi.commit", "POST", SCHOOL_REGISTRAR, "ImportJob"),
    ("AdmissionApi.duplicates", "GET", "registrar@bureau", "Admission"),
    ("AdmissionApi.resolve", "POST", "registrar@bureau", "Admission"),
    ("QualityApi.listing", "GET", QUALITY_READ, "QualityCampaign"),
    ("QualityApi.open", "POST", QUALITY_OPEN, "QualityCampaign"),
    ("QualityApi.close", "POST", QUALITY_OPEN, "QualityCampaign"),
    ("QualityApi.progress", "GET", QUALITY_READ, "QualityCampaign"),
    ("QualityApi.sheet", "GET", SCHOOL_REGISTRAR, "QualityForm"),
    ("QualityApi.mark", "POST", SCHOOL_REGISTRAR, "QualityForm"),
    ("QualityApi.scan", "POST", SCHOOL_REGISTRAR, "QualityForm"),
    ("GraduationApi.cohort", "GET", SCHOOL_REGISTRAR, "Student"),  # 毕业: one's own school's cohort
    ("GraduationApi.graduate", "POST", SCHOOL_REGISTRAR, "Student"),
    ("GraduationApi.complete", "POST", SCHOOL_REGISTRAR, "Student"),  # 结业, per-student results
    ("PromotionApi.plan", "GET", "registrar,supervisor@bureau", "PromotionRun"),  # 升级 of a node
    ("PromotionApi.runs", "GET", "registrar,supervisor@bureau", "PromotionRun"),  # in one's subtree
    ("PromotionApi.run", "POST", "registrar@bureau", "PromotionRun"),
    ("PromotionApi.undo", "POST", "registrar@bureau", "PromotionRun"),
    ("EnrollmentPlanApi.listing", "GET", READ, "EnrollmentPlan"),  # 招生计划 (?year=&school=)
    ("EnrollmentPlanApi.get", "GET", READ, "EnrollmentPlan"),
    ("EnrollmentPlanApi.set_plan", "POST", "registrar@bureau", "EnrollmentPlan"),
    ("EnrollmentPlanApi.apply", "POST", "registrar@bureau", "EnrollmentPlan"),
    ("EnrollmentPlanApi.change_list", "GET", READ, "EnrollmentPlanChange"),
    ("EnrollmentPlanApi.request_change", "POST", SCHOOL_REGISTRAR, "EnrollmentPlan"),  # its own
    ("EnrollmentPlanApi.decide", "POST", "registrar@bureau", "EnrollmentPlanChange"),
]

ROUTES: dict[str, Route] = {}
for _endpoint, _methods, _who, _scoped in _ROWS:
    if _endpoint in ROUTES:
        raise ValueError(f"route table: {_endpoint} twice")
    roles_of(_who)  # a typo in the table fails at import
    ROUTES[_endpoint] = Route(_endpoint, frozenset(_methods.split()), _who, _scoped)

def methods_of_view(view_name: str) -> frozenset[str]:
    """The view methods the table chooses for ``view_name``: the only ones it registers."""
    return frozenset(r.method for r in ROUTES.values() if r.view == view_name)


def chosen(endpoint: str | None, method: str) -> bool:
    route = ROUTES.get(endpoint or "")
    return route is not None and (method in route.methods or
                                  (method in ("HEAD", "OPTIONS") and "GET" in route.methods))


def differences(app) -> list[str]:
    """Where ``app`` and the table disagree: a URL rule the table does not hold, a row no rule
    serves, a method a row names that its rule does not answer.  Empty when every door was chosen.
    (A rule may answer more methods than its row names — Flask-AppBuilder's delete also answers
    GET — and those are refused by the gate.)"""
    out, served = [], {}
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        served.setdefault(rule.endpoint, set()).update(methods)
        if rule.endpoint not in ROUTES:
            out.append(f"not in the table: {rule.rule} {sorted(methods)} -> {rule.endpoint}")
    for endpoint, route in ROUTES.items():
        if endpoint not in served:
            out.append(f"no such route: {endpoint}")
        elif not route.methods <= served[endpoint]:
            out.append(f"{endpoint} does not answer {sorted(route.methods - served[endpoint])}")
    return out
