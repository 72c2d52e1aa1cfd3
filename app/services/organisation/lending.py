"""借用密码登记 (the password-lending register): an account's holder asks to lend its password to a
named person for a period, with the reason; only a system administrator's approval makes it
allowed, and every sign-in of the account inside an approved period is logged against the entry.
Outside one, sign-ins are ordinary.  Periods are in wall-clock time, like the sign-ins they cover."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, Problem, ValidationFailed
from ...i18n import t
from ...models import PasswordLoan, PasswordLoanUse, XuejiUser
from ..common.actors import Actor
from ..common.transaction import transactional
from .audit import account_event

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"


def _problems(lent_to: str, reason: str, starts_at: datetime | None, ends_at: datetime | None,
              now: datetime) -> list[Problem]:
    out = []
    if not lent_to.strip():
        out.append(Problem(t("请填写借用人姓名", "name the person it is lent to"), "lent_to"))
    if not reason.strip():
        out.append(Problem(t("请填写借用原因", "give the reason"), "reason"))
    if starts_at is None or ends_at is None:
        out.append(Problem(t("请填写借用起止时间", "give the start and the end"), "period"))
    elif ends_at <= starts_at or ends_at <= now:
        out.append(Problem(t("结束时间须晚于开始时间和当前时间", "the end must be after the start and now"),
                           "ends_at"))
    return out


@transactional
def file(session: Session, actor: Actor, *, lent_to: str, reason: str, starts_at: datetime | None,
         ends_at: datetime | None, now: datetime) -> PasswordLoan:
    """The signed-in account asks to lend its own password; it waits for a system administrator."""
    problems = _problems(lent_to, reason, starts_at, ends_at, now)
    if problems:
        raise ValidationFailed(problems)
    user = session.get(XuejiUser, actor.user_id)
    loan = PasswordLoan(user_id=user.id, lent_to=lent_to.strip()[:100], reason=reason.strip()[:500],
                        starts_at=starts_at, ends_at=ends_at, status=PENDING,
                        filed_by=actor.username, filed_at=now)
    session.add(loan)
    session.flush()
    account_event(session, actor, "password_loan_filed", user, changes=_entry(loan),
                  summary=f"{user.username} 申请将密码借给 {loan.lent_to}")
    return loan


@transactional
def decide(session: Session, actor: Actor, loan_id: int, *, approve: bool, note: str,
           now: datetime) -> PasswordLoan:
    """A system administrator over the account approves or refuses; nobody decides their own."""
    actor.require("PasswordLoan", "decide")
    loan = actor.fetch(session, PasswordLoan, loan_id, t("登记不存在或不在本辖区", "no such entry in your jurisdiction"),
                       lock=True)
    if loan.status != PENDING:
        raise Conflict(t(f"借用登记 #{loan.id} 已处理", f"cannot decide entry {loan.id}: it is {loan.status!r}"))
    if loan.user_id == actor.user_id:
        raise Forbidden(t("不能审批自己账号的借用登记", "nobody approves lending their own password"))
    loan.status = APPROVED if approve else REFUSED
    loan.decided_by, loan.decided_at, loan.note = actor.username, now, (note or "").strip()[:500] or None
    account_event(session, actor, f"password_loan_{loan.status}", loan.user, changes=_entry(loan),
                  summary=f"{actor.username} {'批准' if approve else '拒绝'}借用登记 #{loan.id}")
    return loan


def _entry(loan: PasswordLoan) -> dict:
    return {"loan": loan.id, "lent_to": loan.lent_to, "from": loan.starts_at.isoformat(timespec="minutes"),
            "to": loan.ends_at.isoformat(timespec="minutes")}


def active_loan(session: Session, user: XuejiUser, now: datetime) -> PasswordLoan | None:
    """The approved entry whose period holds ``now``, if any."""
    return session.scalar(select(PasswordLoan).where(
        PasswordLoan.user_id == user.id, PasswordLoan.status == APPROVED,
        PasswordLoan.starts_at <= now, PasswordLoan.ends_at >= now).order_by(PasswordLoan.id.desc()))


def record_use(session: Session, user: XuejiUser, now: datetime, *, via: str,
               address: str | None) -> PasswordLoanUse | None:
    """A sign-in of ``user``: logged against the loan in force, if one is (the caller commits)."""
    loan = active_loan(session, user, now)
    if loan is None:
        return None
    use = PasswordLoanUse(loan_id=loan.id, at=now, via=via, address=(address or "")[:64] or None)
    session.add(use)
    return use


def listing(session: Session, actor: Actor) -> list[PasswordLoan]:
    """One's own entries, and (a system administrator) those of the accounts in one's jurisdiction."""
    mine = PasswordLoan.user_id == actor.user_id
    seen = or_(mine, actor.scope.clause(PasswordLoan)) if actor.may("PasswordLoan", "decide") else mine
    return list(session.scalars(select(PasswordLoan).where(seen).order_by(PasswordLoan.id.desc())))


def uses_of(session: Session, loans: list[PasswordLoan]) -> dict[int, list[PasswordLoanUse]]:
    out: dict[int, list[PasswordLoanUse]] = {loan.id: [] for loan in loans}
    for use in session.scalars(select(PasswordLoanUse).where(PasswordLoanUse.loan_id.in_(list(out)))
                               .order_by(PasswordLoanUse.at)):
        out[use.loan_id].append(use)
    return out
