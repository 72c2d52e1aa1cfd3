"""The engine's fixed vocabulary: stable names rule files and callers use (data, not behaviour)."""

from __future__ import annotations

STAGES = ("preschool", "primary", "junior", "senior")
COMPULSORY = ("primary", "junior")
FINAL_GRADE = {"primary": 6, "junior": 9, "senior": 12}  # the grade a stage graduates from
STAGE_ZH = {"preschool": "学前", "primary": "小学", "junior": "初中", "senior": "高中"}

# rule-file levels, from the top; a file's level follows from its code's shape
FILE_LEVELS = ("national", "province", "city", "county")
LEVEL_ZH = {"national": "国家", "province": "省级", "city": "市级", "county": "县级", "school": "学校"}

# who approves a step, and where, relative to the party that starts the request
ROLES = ("registrar", "supervisor")
ROLE_ZH = {"registrar": "学籍管理员", "supervisor": "学籍主管领导"}
STEP_LEVELS = ("school", "own_bureau", "other_school", "other_bureau", "city", "province")
STEP_LEVEL_ZH = {"school": "本校", "own_bureau": "本校主管教育部门", "other_school": "对方学校",
                 "other_bureau": "对方学校主管教育部门", "city": "市级教育部门",
                 "province": "省级教育部门"}

# businesses with time windows (业务办理时间)
BUSINESSES = {
    "register_new": "小学新生注册",
    "register_in_school": "在校生注册",
    "register_returnee": "来华归国学生注册",
    "transfer": "转学",
    "change": "非转学异动",
    "key_field_change": "关键信息变更",
    "graduation": "毕业",
    "promotion": "升级",
    "enrollment": "招生",
    "cross_province_enrollment": "毕业后跨省就学",
    "data_verification": "数据质量核查",
    "enrollment_plan": "招生计划",
}

# action -> (Chinese name, business whose window applies, or None)
ACTIONS = {
    "register_new": ("小学新生注册", "register_new"),
    "register_in_school": ("在校生注册", "register_in_school"),
    "register_returnee": ("来华归国学生注册", "register_returnee"),
    "edit_field": ("学籍信息维护（直接修改）", None),
    "change_field": ("关键信息变更申请", "key_field_change"),
    "transfer": ("转学", "transfer"),
    "suspend": ("休学", "change"),
    "resume": ("复学", "change"),
    "repeat": ("留级", "change"),
    "skip": ("跳级", "change"),
    "dropout": ("辍学", "change"),
    "withdraw": ("退学", "change"),
    "expel": ("开除", "change"),
    "abroad": ("出境", "change"),
    "death": ("死亡", "change"),
    "graduate": ("毕业", "graduation"),
    "complete": ("结业", "graduation"),
    "revoke_graduation": ("毕业撤销", None),
    "promote": ("升级", "promotion"),
    "enroll": ("招生录取", "enrollment"),
    "enroll_cross_province": ("毕业后跨省就学", "cross_province_enrollment"),
    "delete_record": ("删除学籍", None),
    "assign_class": ("编入班级", None),
    "verify_data": ("数据质量核查", "data_verification"),
    "enter_corrections": ("数据质量核查登记（录入更正）", "data_verification"),
    "plan_enrollment": ("核定招生计划", "enrollment_plan"),
    "change_enrollment_plan": ("招生计划变更申请", "enrollment_plan"),
}

STUDENT_STATUSES = (
    "in_school", "suspended", "resuming", "abroad", "left_other", "dropout", "missing",
    "deceased", "graduated", "completed", "incomplete", "transferred_out",
)

# business switches (业务开关) and what kind of value each holds
SWITCHES = {
    "register_new": "bool",  # 小学新生注册
    "register_in_school": "bool",  # 在校生注册 (stragglers while the menu is open)
    "register_returnee": "bool",  # 来华归国学生注册
    "delete_formal_record": "bool",  # a record with a formal (G/J) number may be deleted
    "export_confirmation_forms": "bool",  # 数据质量核查：导出确认表
    "enter_corrections": "bool",  # 数据质量核查：录入更正
    "entry_age": "entry_age",  # 入学年龄控制
    "edit_under_review": "bool",  # 审批期间允许直接修改学籍 (off: edits wait for a return)
    "promotion_carry_over": "bool",  # 升级时带着未办结业务/未毕业学生执行 (off: they block it)
}
# what the policy page calls each switch (a switch without a name here shows its key)
SWITCH_ZH = {
    "register_new": "小学新生注册", "register_in_school": "在校生注册",
    "register_returnee": "来华归国学生注册", "delete_formal_record": "允许删除有正式学籍号的学籍",
    "export_confirmation_forms": "数据质量核查：导出确认表",
    "enter_corrections": "数据质量核查：录入更正", "entry_age": "入学年龄控制",
    "edit_under_review": "审批期间允许直接修改学籍",
    "promotion_carry_over": "升级时允许带着未办结业务执行",
}
# switches an open data-quality campaign (数据质量核查活动) turns on for the schools it covers,
# together with the data_verification window: the province opens them per region and date range
CAMPAIGN_SWITCHES = ("export_confirmation_forms", "enter_corrections")
# the forms of a transfer whose chain may differ (rule files' ``variants``)
VARIANT_ZH = {"same_county": "同一县（区）内转学", "same_city": "同一市内跨县转学",
              "cross_province": "跨省转学"}
# switches whose action is refused while the switch is off
ACTION_SWITCH = {"register_new": "register_new", "register_in_school": "register_in_school",
                 "register_returnee": "register_returnee", "delete_record": "delete_formal_record",
                 "verify_data": "export_confirmation_forms", "enter_corrections": "enter_corrections"}

# the decision's violation codes, stable for callers and tests
CODES = (
    "unknown_action", "stage_not_allowed", "status_not_allowed", "problem_record",
    "business_in_progress", "controlled_field", "class_full", "outside_window", "frozen",
    "switch_off", "entry_age", "formal_record_delete", "under_review",
    "export_over_rows", "export_scope",  # 导出审批 (policy.exports): the export waits for approval
)
