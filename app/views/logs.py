"""Read-only logs: personal-data views and record changes, scoped like everything else."""

from __future__ import annotations

from ..i18n import t
from ..models import AuditEvent, CodeItem, PersonalDataAccess
from ..web.common import interface
from .base import ScopedModelView


class PersonalDataAccessView(ScopedModelView):
    route_base = "/personal-data-log"
    datamodel = interface(PersonalDataAccess)
    class_permission_name = "PersonalDataAccess"
    base_permissions = ["can_list", "can_show"]
    list_title = t("个人信息查看记录", "Personal data views")
    list_columns = ["at", "username", "student_id", "import_job_id", "channel", "fields"]
    search_columns = ["username", "student_id", "import_job_id", "channel", "at"]
    base_order = ("at", "desc")
    label_columns = {"at": t("时间", "When"), "username": t("账号", "Who"),
                     "student_id": t("学生", "Whom"), "import_job_id": t("导入任务", "Import job"),
                     "channel": t("途径", "Channel"),
                     "fields": t("字段", "Fields")}


class AuditEventView(ScopedModelView):
    route_base = "/audit-log"
    datamodel = interface(AuditEvent)
    class_permission_name = "AuditEvent"
    base_permissions = ["can_list", "can_show"]
    list_title = t("操作日志", "Audit log")
    list_columns = ["at", "username", "action", "entity", "entity_id", "summary"]
    show_columns = list_columns + ["changes"]
    search_columns = ["username", "action", "entity", "entity_id", "at"]
    base_order = ("at", "desc")
    label_columns = {"at": t("时间", "When"), "username": t("账号", "Who"),
                     "action": t("操作", "Action"), "entity": t("对象", "Entity"),
                     "entity_id": t("编号", "Id"), "summary": t("摘要", "Summary"),
                     "changes": t("变更", "Changes")}


class CodeItemView(ScopedModelView):
    """Code tables are national data; the province's administrator may relabel or retire entries."""

    route_base = "/codes"

    datamodel = interface(CodeItem)
    class_permission_name = "CodeItem"
    base_filters = []
    base_permissions = ["can_list", "can_show", "can_edit"]
    list_title = t("代码表", "Code tables")
    list_columns = ["table_name", "code", "label", "label_en", "active"]
    edit_columns = ["label", "label_en", "active"]
    search_columns = ["table_name", "code", "label"]
    base_order = ("table_name", "asc")
    page_size = 100
    label_columns = {"table_name": t("代码表", "Table"), "code": t("代码", "Code"),
                     "label": t("名称", "Label"), "label_en": t("英文名称", "English"),
                     "active": t("启用", "Active")}
