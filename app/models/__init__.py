"""All models, imported here so the one metadata knows every table."""

from .admissions import Admission
from .audit import AuditEvent, ExportLog, PersonalDataAccess
from .codes import CodeItem
from .enrollment import EnrollmentPlan, EnrollmentPlanChange, EnrollmentPlanClass
from .family import FamilyMember
from .imports import ImportJob
from .jurisdiction import Jurisdiction
from .problems import ProblemCase, ProblemMember
from .quality import QualityCampaign, QualityForm
from .queue import QueuedAttachment, QueuedRequest
from .registry_number import RegistryNumber
from .report_signoff import ReportSignoff
from .reports import ReportMonth, ReportSnapshot
from .requests import Attachment, Notification, NotificationRead, Request, RequestStep
from .rules import RuleSetVersion
from .school import Grade, School, SchoolClass
from .schoolyear import (
    Graduation,
    PromotionClassSnapshot,
    PromotionRun,
    PromotionSchool,
    PromotionStudentSnapshot,
)
from .student import Student
from .user import XuejiUser

__all__ = [
    "Admission",
    "Attachment", "ExportLog", "ImportJob", "Notification", "NotificationRead", "ProblemCase", "ProblemMember", "Request", "RequestStep",
    "EnrollmentPlan", "EnrollmentPlanChange", "EnrollmentPlanClass",
    "QualityCampaign", "QualityForm",
    "AuditEvent", "CodeItem", "FamilyMember", "Grade", "Graduation", "Jurisdiction", "PersonalDataAccess",
    "PromotionClassSnapshot", "QueuedAttachment", "QueuedRequest", "PromotionRun", "PromotionSchool", "PromotionStudentSnapshot",
    "RegistryNumber", "ReportMonth", "ReportSignoff", "ReportSnapshot", "RuleSetVersion", "School", "SchoolClass", "Student", "XuejiUser",
]
