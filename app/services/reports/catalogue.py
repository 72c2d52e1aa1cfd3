"""The indicator catalogue of the monthly report (月报): every indicator declared once -- its names, its
definition (how it is computed), unit, chart, the bulletin's threshold and the function computing it.
A new indicator is one entry here; the page, REST, CLI, files and charts read it from the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...i18n import t
from . import approvals, flows, problems, stock
from .window import Result, Window


@dataclass(frozen=True)
class Flag:
    """The bulletin's threshold: a figure below (or above) it is flagged."""

    below: float | None = None
    above: float | None = None

    def crossed(self, value) -> bool:
        if value is None:
            return False
        return (self.below is not None and value < self.below) or (self.above is not None and value > self.above)

    def note(self, unit: tuple[str, str]) -> str:
        """When the figure is flagged, in words: 低于 70% 时提示."""
        zh, en = (u if u == "%" else f" {u}" for u in unit)
        if self.below is not None:
            return str(t(f"低于 {self.below:g}{zh} 时提示", f"flagged below {self.below:g}{en}"))
        return str(t(f"高于 {self.above:g}{zh} 时提示", f"flagged above {self.above:g}{en}"))


@dataclass(frozen=True)
class Indicator:
    """One indicator of the monthly report."""

    key: str
    name_zh: str
    name_en: str
    definition_zh: str
    definition_en: str
    unit: tuple[str, str]  # (中文, English)
    compute: Callable[[Window], Result]
    chart: str | None = None  # bar / line / pie: how it is best looked at
    flag: Flag | None = None
    stock: bool = False  # counted from the month-end snapshot (else from the history)
    trend: bool = False  # one of the key figures whose last six months the report carries

    @property
    def name(self) -> str:
        return str(t(self.name_zh, self.name_en))

    @property
    def definition(self) -> str:
        return str(t(self.definition_zh, self.definition_en))

    @property
    def unit_words(self) -> str:
        return str(t(*self.unit))


PERSONS, CASES, PERCENT, ACCOUNTS = ("人", "students"), ("件", "requests"), ("%", "%"), ("个", "accounts")
RECORDS = ("条", "cases")
ON_RECORD_ZH = "在籍学生（状态为在校、休学、复学中）"
ON_RECORD_EN = "students on record (in school, suspended or resuming)"
ENDED_ZH = "本月办结（状态为已办结、办结时间在本月内）"
ENDED_EN = "completed in the month (done, closed within the month)"

CATALOGUE: tuple[Indicator, ...] = (
    Indicator("students_on_record", "在籍学生数", "Students on record",
              f"月末{ON_RECORD_ZH}人数，按学段、年级、性别分列；取自月末快照。",
              f"Number of {ON_RECORD_EN} at the month's end, by stage, grade and gender; from the "
              "month-end snapshot.", PERSONS, stock.students_on_record, chart="bar", stock=True, trend=True),
    Indicator("new_registrations", "新注册学生数", "New registrations",
              f"注册核办（小学新生、在校生、来华归国学生注册）{ENDED_ZH}所注册的学生人数；批量导入按该批记录数计。",
              f"Students registered by registration reviews (first grade, in school, returnees) {ENDED_EN}; "
              "an import's review counts its records.", PERSONS, flows.new_registrations, chart="bar",
              trend=True),
    Indicator("transfers_in", "转入学生数", "Transfers in",
              f"转入本单位（转入学校在本单位内）的转学申请{ENDED_ZH}的人数，按同县、跨县、跨省分列。",
              f"Transfers into the node (the receiving school is under it) {ENDED_EN}, by distance: within "
              "the county, across counties, across provinces.", PERSONS, flows.transfers_in, chart="bar",
              trend=True),
    Indicator("transfers_out", "转出学生数", "Transfers out",
              f"从本单位转出（原学校在本单位内）的转学申请{ENDED_ZH}的人数，按同县、跨县、跨省分列。",
              f"Transfers out of the node (the sending school is under it) {ENDED_EN}, by distance.",
              PERSONS, flows.transfers_out, chart="bar", trend=True),
    Indicator("cross_province_approved", "跨省转学省内审核通过率", "Cross-province transfers approved",
              "本月在办的跨省转学（月初未办结或本月提交）中，月末前审批链全部通过的比例。",
              "Of the cross-province transfers in progress during the month (open at its start or filed in "
              "it), the share whose whole approval chain had approved by its end.", PERCENT,
              approvals.cross_province_approved),
    Indicator("cross_province_pulled", "跨省转学调档率", "Cross-province files pulled",
              "上述审核通过的跨省转学中，转入学校月末前已完成调档的比例。",
              "Of those approved, the share whose file the receiving school had pulled by the month's end.",
              PERCENT, approvals.cross_province_pulled),
    Indicator("cross_province_waiting", "跨省转学超 10 个工作日未办结数", "Cross-province transfers waiting",
              "月末仍未办结、提交已超过 10 个工作日（按节假日与调休安排计）的跨省转学件数。",
              "Cross-province transfers still open at the month's end, filed more than 10 working days "
              "before it (holidays and make-up working days counted).", CASES,
              approvals.cross_province_waiting, flag=Flag(above=0)),
    Indicator("changes", "学籍异动人数", "Other changes",
              f"休学、复学、留级、跳级、辍学、退学、开除、出境、死亡等异动申请{ENDED_ZH}的人数，按类型分列。",
              f"Suspensions, resumptions, repeats, skips, dropouts, withdrawals, expulsions, departures "
              f"abroad and deaths {ENDED_EN}, by kind.", PERSONS, flows.changes, chart="pie"),
    Indicator("graduations", "毕业生数", "Graduations",
              "毕业时间在本月内的学生人数，按学段分列。",
              "Students whose graduation falls within the month, by stage.", PERSONS, flows.graduations,
              chart="bar"),
    Indicator("problems_found", "本月发现问题学籍", "Problem records found",
              "发现时间在本月内的问题学籍（身份证号错误、重复等）条数，按类型分列。",
              "Problem records (invalid or duplicate IDs) detected within the month, by kind.", RECORDS,
              problems.problems_found, chart="bar"),
    Indicator("problems_resolved", "本月解决问题学籍", "Problem records resolved",
              "解决时间在本月内的问题学籍条数。", "Problem records resolved within the month.", RECORDS,
              problems.problems_resolved),
    Indicator("problems_open", "月末未解决问题学籍", "Problem records open",
              "月末已发现且尚未解决的问题学籍条数；与上月比较即为较上月变化。",
              "Problem records detected and not resolved at the month's end; compared with last month's.",
              RECORDS, problems.problems_open),
    Indicator("approvals_pending", "待审批业务数", "Approvals waiting",
              "月末等待审批的业务件数，按当时所在审批层级（学校、县、市、省）分列，附平均与最长等待天数"
              "（自进入该步骤起）。",
              "Requests waiting for an approval at the month's end, by the level holding them (school, county, "
              "city, province), with their average and oldest age in days since they reached that step.",
              CASES, approvals.approvals_pending, chart="bar", trend=True),
    Indicator("approvals_overdue", "超期待审批业务数", "Approvals overdue",
              "上述待审批业务中，已超过该步骤办理时限（工作日）的件数。",
              "Of those, the requests past their step's time limit in working days.", CASES,
              approvals.approvals_overdue, flag=Flag(above=0)),
    Indicator("completion_share", "在办业务办结率", "Business completed",
              "本月在办业务（月初未办结或本月提交）中，月末前已办结（通过、不通过或撤销）的比例。",
              "Of the requests in progress during the month (open at its start or filed in it), the share "
              "closed (approved, rejected or withdrawn) by its end.", PERCENT, flows.completion_share,
              flag=Flag(below=90), trend=True),
    Indicator("ratio_grade1_grade2", "一年级与二年级在籍人数比", "Grade 1 ÷ grade 2",
              "月末一年级在籍学生数 ÷ 二年级在籍学生数。",
              "Grade 1 students on record ÷ grade 2 students on record at the month's end.", PERCENT,
              stock.grade_ratio(1, 2), flag=Flag(below=70), stock=True),
    Indicator("ratio_grade7_primary_graduates", "初一在籍人数与小学毕业生数比", "Grade 7 ÷ primary graduates",
              "月末初一在籍学生数 ÷ 月末前 12 个月内从六年级毕业的学生数。",
              "Grade 7 students on record at the month's end ÷ students who graduated from grade 6 in the "
              "twelve months before it.", PERCENT, stock.grade7_per_primary_graduate, stock=True),
    Indicator("ratio_grade10_grade11", "高一与高二在籍人数比", "Grade 10 ÷ grade 11",
              "月末高一在籍学生数 ÷ 高二在籍学生数。",
              "Grade 10 students on record ÷ grade 11 students on record at the month's end.", PERCENT,
              stock.grade_ratio(10, 11), stock=True),
    Indicator("accounts_active", "活跃账号数", "Active accounts",
              "月末本单位及下级的在用账号中，月末前 90 天内登录过的账号数（天数可配置）；取自月末快照。",
              "Accounts of the node and below, in use, that signed in within 90 days before the month's "
              "end (configurable); from the month-end snapshot.", ACCOUNTS, stock.accounts_active,
              chart="bar", stock=True),
    Indicator("accounts_dormant", "休眠账号数", "Dormant accounts",
              "在用但月末前 90 天内未登录的账号数。",
              "Accounts in use that did not sign in within 90 days before the month's end.", ACCOUNTS,
              stock.accounts_dormant, stock=True),
)

BY_KEY = {i.key: i for i in CATALOGUE}
if len(BY_KEY) != len(CATALOGUE):
    raise RuntimeError("an indicator key is declared twice")
