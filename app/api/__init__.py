"""REST resources under /api/v1/: JWT login at /api/v1/security/login, scoped like the pages."""

from __future__ import annotations


def register_apis(appbuilder) -> None:
    """Every REST resource (app.web registers them after the pages)."""
    from .admissions import AdmissionApi
    from .exports import ExportRequestApi
    from .hierarchy import GradeApi, JurisdictionApi, SchoolApi, SchoolClassApi
    from .jobs import JobApi
    from .messages import MessageApi
    from .plans import EnrollmentPlanApi
    from .quality import QualityApi
    from .queued import QueuedRequestApi
    from .report_signing import ReportSignoffApi
    from .reports import ReportApi
    from .requests import RequestApi
    from .schoolyear import GraduationApi, PromotionApi
    from .statistics import StatisticsApi
    from .students import FamilyMemberApi, StudentApi

    for api in (JurisdictionApi, SchoolApi, GradeApi, SchoolClassApi, StudentApi, FamilyMemberApi,
                RequestApi, MessageApi, ReportSignoffApi, StatisticsApi, ReportApi,
                EnrollmentPlanApi, GraduationApi, PromotionApi, QueuedRequestApi, QualityApi, JobApi):
        appbuilder.add_api(api)
    appbuilder.add_api(AdmissionApi)  # 录取名单 and 重复录取
    appbuilder.add_api(ExportRequestApi)  # 导出审批, and large exports made by a job
