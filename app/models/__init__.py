"""All models, imported here so the one metadata knows every table."""

from .admissions import Admission
from .audit import AuditEvent, ExportLog, PersonalDataAccess
from .audit_checkpoint import AuditCheckpoint
from .backup import BackupRun
from .codes import CodeItem
from .crypto_state import CryptoState
from .duties import AccountApproval, CustomRole
from .enrollment import EnrollmentPlan, EnrollmentPlanChange, EnrollmentPlanClass
from .export_request import ExportRequest
from .family import FamilyMember
from .identity import AccountTotp, PasswordHistory, PasswordLoan, PasswordLoanUse  # identity controls
from .imports import ImportChunk, ImportJob
from .jobs import JobRun
from .jurisdiction import Jurisdiction
from .monthly_report import MonthlyReport, MonthlyReportFile  # stored monthly reports
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
from .security_policy import SecurityPolicy  # the security policy (安全策略)
from .student import Student
from .student_tally import StudentTally  # per-school counts kept by triggers
from .user import XuejiUser

__all__ = [
    "Admission", "BackupRun", "AccountApproval", "CustomRole",
    "AccountTotp", "PasswordHistory", "PasswordLoan", "PasswordLoanUse",  # identity controls
    "Attachment", "ExportLog", "ImportChunk", "ImportJob", "Notification", "NotificationRead", "ProblemCase", "ProblemMember", "Request", "RequestStep",
    "EnrollmentPlan", "EnrollmentPlanChange", "EnrollmentPlanClass",
    "ExportRequest",
    "QualityCampaign", "QualityForm",
    "AuditCheckpoint", "CryptoState", "AuditEvent", "CodeItem", "FamilyMember", "Grade", "Graduation", "JobRun", "Jurisdiction", "PersonalDataAccess",
    "PromotionClassSnapshot", "QueuedAttachment", "QueuedRequest", "PromotionRun", "PromotionSchool", "PromotionStudentSnapshot",
    "MonthlyReport", "MonthlyReportFile",  # stored monthly reports
    "RegistryNumber", "ReportMonth", "SecurityPolicy", "ReportSignoff", "ReportSnapshot", "RuleSetVersion", "School", "SchoolClass", "Student", "XuejiUser",
    "StudentTally",  # per-school counts kept by triggers
]
