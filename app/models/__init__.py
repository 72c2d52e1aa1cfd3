"""All models, imported here so the one metadata knows every table."""

from .audit import AuditEvent, ExportLog, PersonalDataAccess
from .codes import CodeItem
from .family import FamilyMember
from .imports import ImportJob
from .jurisdiction import Jurisdiction
from .problems import ProblemCase, ProblemMember
from .registry_number import RegistryNumber
from .report_signoff import ReportSignoff
from .reports import ReportMonth, ReportSnapshot
from .requests import Attachment, Notification, NotificationRead, Request, RequestStep
from .rules import RuleSetVersion
from .school import Grade, School, SchoolClass
from .schoolyear import (
    PromotionClassSnapshot,
    PromotionRun,
    PromotionSchool,
    PromotionStudentSnapshot,
)
from .student import Student
from .user import XuejiUser

__all__ = [
    "Attachment", "ExportLog", "ImportJob", "Notification", "NotificationRead", "ProblemCase", "ProblemMember", "Request", "RequestStep",
    "AuditEvent", "CodeItem", "FamilyMember", "Grade", "Jurisdiction", "PersonalDataAccess",
    "PromotionClassSnapshot", "PromotionRun", "PromotionSchool", "PromotionStudentSnapshot",
    "RegistryNumber", "ReportMonth", "ReportSignoff", "ReportSnapshot", "RuleSetVersion", "School", "SchoolClass", "Student", "XuejiUser",
]
