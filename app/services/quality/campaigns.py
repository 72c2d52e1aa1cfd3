"""数据质量核查活动: the province opens a campaign for a region (its own division, a city or a
county) and a date range, and closes it; which campaigns an account sees; which open campaign
covers a school, and the gate every print, mark and upload of the verification passes through.

An open campaign covering a school stands for the rule switches ``export_confirmation_forms`` and
``enter_corrections`` and for the ``data_verification`` window there (the engine's ``campaign``
fact); without one the rule files decide, and a refusal says the school is in no open campaign."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ...errors import Conflict, NotFound, Problem, RuleViolation, ValidationFailed
from ...i18n import t
from ...models import AuditEvent, Jurisdiction, QualityCampaign, School
from ...security.inputs import as_db_int
from ..common.actors import Actor
from ..common.transaction import transactional
from ..policy import rulesets as policy

RESOURCE = "QualityCampaign"
STATE_ZH = {"open": "进行中", "pending": "未开始", "ended": "已到期", "closed": "已关闭"}


def ref(campaign: QualityCampaign) -> str:
    """How users name a campaign in a message or a refusal's source."""
    return (f"数据质量核查活动 #{campaign.id}「{campaign.name}」（{campaign.region_code}，"
            f"{campaign.starts_on} 至 {campaign.ends_on}）")


def state(campaign: QualityCampaign, day: date) -> str:
    """open / pending (not started) / ended (its last day passed) / closed (by the province)."""
    if campaign.status == "closed":
        return "closed"
    if day < campaign.starts_on:
        return "pending"
    return "ended" if day > campaign.ends_on else "open"


def covers(campaign: QualityCampaign, school: School) -> bool:
    return campaign.region_code in policy.codes_of(school)


def _covering(codes) -> object:
    return QualityCampaign.region_code.in_([c for c in codes if c])


def open_covering(session: Session, school: School, day: date) -> QualityCampaign | None:
    """The latest campaign open on ``day`` whose region holds ``school`` (None: none)."""
    return session.scalar(select(QualityCampaign).where(
        _covering(policy.codes_of(school)), QualityCampaign.status == "open",
        QualityCampaign.starts_on <= day, QualityCampaign.ends_on >= day)
        .order_by(QualityCampaign.id.desc()).limit(1))


def covering_ref(session: Session, school: School, now: datetime) -> str:
    """The engine's ``campaign`` fact for ``school`` now: the open campaign's name, or ""."""
    campaign = open_covering(session, school, now.date())
    return ref(campaign) if campaign is not None else ""


# -- who sees which ------------------------------------------------------------------------------

def _own_codes(session: Session, actor: Actor) -> tuple[str, ...]:
    """The division codes above and at the actor's node (a school's: its county, city, province)."""
    scope = actor.scope
    if scope.level == "school":
        school = session.get(School, scope.school_id)
        return policy.codes_of(school) if school is not None else ()
    node = session.scalar(select(Jurisdiction).where(Jurisdiction.code == scope.code)) if scope.code else None
    return policy.codes_of(node) if node is not None else ()


def visible_clause(session: Session, actor: Actor):
    """Campaigns of regions in the actor's jurisdiction, and those whose region holds its node."""
    if actor.is_system:
        return QualityCampaign.id.is_not(None)
    return or_(actor.scope.clause(QualityCampaign), _covering(_own_codes(session, actor)))


def _may_read(actor: Actor) -> None:
    if not (actor.may(RESOURCE, "read") or actor.may(RESOURCE, "mark")):
        actor.require(RESOURCE, "read")


def visible(session: Session, actor: Actor) -> list[QualityCampaign]:
    """Every campaign the actor sees, the newest first."""
    _may_read(actor)
    return list(session.scalars(select(QualityCampaign).where(visible_clause(session, actor))
                                .order_by(QualityCampaign.id.desc())))


def get(session: Session, actor: Actor, campaign_id, *, lock: bool = False) -> QualityCampaign:
    """One campaign the actor sees, or NotFound naming ``campaign`` (another region's is not there)."""
    _may_read(actor)
    pk = as_db_int(campaign_id) or 0  # nothing an INTEGER column cannot hold reaches the query
    query = select(QualityCampaign).where(QualityCampaign.id == pk, visible_clause(session, actor))
    campaign = session.scalar(query.with_for_update(read=True) if lock else query)
    if campaign is None:
        raise NotFound(t("核查活动不存在或不在本辖区", "no such campaign in your jurisdiction"), "campaign")
    return campaign


# -- opening and closing -------------------------------------------------------------------------

def _region(session: Session, actor: Actor, code: str) -> Jurisdiction:
    code = (code or "").strip()
    node = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code,
                                                     actor.scope.clause(Jurisdiction)))
    if node is None:
        raise ValidationFailed(t(f"区域 {code} 不是本省的行政区划代码",
                                 f"{code} is no division of your province"), "region")
    return node


def _dates(starts_on: date, ends_on: date, today: date) -> None:
    if starts_on > ends_on:
        raise ValidationFailed(t("结束日期不能早于开始日期", "the end is before the start"), "ends_on")
    if ends_on < today:
        raise ValidationFailed(t(f"结束日期 {ends_on} 已经过去", f"{ends_on} has passed"), "ends_on")


def _audit(actor: Actor, campaign: QualityCampaign, action: str, summary: str) -> AuditEvent:
    return AuditEvent(user_id=actor.user_id, username=actor.username, action=action,
                      entity="quality_campaign", entity_id=campaign.id,
                      province_code=campaign.province_code, city_code=campaign.city_code,
                      county_code=campaign.county_code, summary=summary[:300],
                      changes={"region": campaign.region_code, "starts_on": str(campaign.starts_on),
                               "ends_on": str(campaign.ends_on), "status": campaign.status})


@transactional
def open_campaign(session: Session, actor: Actor, *, region: str, starts_on: date, ends_on: date,
                  now: datetime, name: str | None = None, note: str | None = None) -> QualityCampaign:
    """Open a campaign for a division of the province (province registrar or administrator)."""
    actor.require(RESOURCE, "add")
    node = _region(session, actor, region)
    _dates(starts_on, ends_on, now.date())
    campaign = QualityCampaign(
        name=(name or "").strip()[:100] or f"{node.name}数据质量核查", jurisdiction=node,
        jurisdiction_id=node.id, region_code=node.code, starts_on=starts_on, ends_on=ends_on,
        status="open", note=(note or "").strip()[:300] or None, opened_by=actor.username,
        opened_at=now)
    campaign.copy_chain_from(node)
    session.add(campaign)
    session.flush()
    session.add(_audit(actor, campaign, "open_campaign", f"开启{ref(campaign)}"))
    return campaign


@transactional
def close_campaign(session: Session, actor: Actor, campaign_id, now: datetime) -> QualityCampaign:
    """Close a campaign before its end: marking and uploading stop at once."""
    actor.require(RESOURCE, "add")
    campaign = get(session, actor, campaign_id)
    if not actor.is_system and not actor.scope.contains_jurisdiction(campaign.jurisdiction):
        raise NotFound(t("核查活动不存在或不在本辖区", "no such campaign in your jurisdiction"), "campaign")
    done = session.execute(update(QualityCampaign).where(
        QualityCampaign.id == campaign.id, QualityCampaign.status == "open")
        .values(status="closed", closed_by=actor.username, closed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not done:
        raise Conflict(t(f"{ref(campaign)}已关闭", f"campaign {campaign.id} is closed already"), "campaign")
    session.refresh(campaign)
    session.add(_audit(actor, campaign, "close_campaign", f"关闭{ref(campaign)}"))
    return campaign


# -- the gate ------------------------------------------------------------------------------------

def _campaign_problems(campaign: QualityCampaign, school: School, day: date) -> list[Problem]:
    where = ref(campaign)
    if not covers(campaign, school):
        return [Problem(t(f"{school.name}不在该核查活动的区域内", f"{school.name} is outside the campaign"),
                        "campaign", "outside_campaign", where)]
    now_state = state(campaign, day)
    if now_state == "open":
        return []
    closed = f"{campaign.closed_at:%Y-%m-%d}" if campaign.closed_at else ""
    zh, en = {"closed": (f"该核查活动已于 {closed} 关闭，不能再登记", f"the campaign was closed {closed}"),
              "pending": (f"该核查活动 {campaign.starts_on} 才开始，现在还不能登记",
                          f"the campaign starts on {campaign.starts_on}"),
              "ended": (f"该核查活动已于 {campaign.ends_on} 结束，不能再登记",
                        f"the campaign ended on {campaign.ends_on}")}[now_state]
    return [Problem(t(zh, en), "campaign",
                    f"campaign_{now_state}", where)]


def gate(session: Session, actor: Actor, school: School, now: datetime, action: str, *,
         campaign: QualityCampaign | None = None, required: bool = True) -> QualityCampaign | None:
    """The open campaign under which ``action`` (verify_data: print forms; enter_corrections:
    marks and scans) is done at ``school`` now, or RuleViolation naming every reason it may not:
    the campaign's (outside it, closed, over) and the rules' (with their file:line)."""
    from ..record.students import actor_facts

    day = now.date()
    campaign = campaign or open_covering(session, school, day)
    problems = _campaign_problems(campaign, school, day) if campaign is not None else []
    fact = ref(campaign) if campaign is not None and not problems else ""
    decision = policy.decide(session, policy.facts(action, now, school, campaign=fact, **actor_facts(actor)))
    problems += policy.violation_problems(decision)
    if not problems and campaign is None and required:
        problems.append(Problem(t("本校没有进行中的数据质量核查活动：核查登记须在省级开启的活动中进行",
                                  "no open campaign covers this school"), "campaign", "no_campaign"))
    if problems:
        raise RuleViolation(problems)
    return campaign


def hold(session: Session, campaign: QualityCampaign) -> None:
    """Hold the campaign open until the caller's transaction ends (FOR SHARE on PostgreSQL): a
    close waits for marks under way, and a mark after a close finds it closed."""
    still = session.scalar(select(QualityCampaign.id).where(
        QualityCampaign.id == campaign.id, QualityCampaign.status == "open").with_for_update(read=True))
    if still is None:
        raise RuleViolation([Problem(t("该核查活动已关闭，不能再登记", "the campaign is closed"), "campaign",
                                     "campaign_closed", ref(campaign))])
