"""Business that waits: a request refused only because its window is closed may queue for the day
it opens (排队，窗口开放时自动提交), and a step overdue past its deadline escalates to the level
above (强制干预).  Both answers cite the rule file and line they come from.  Pure, like the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from .engine import Decision, Facts, _applies, _window
from .ruleset import Effective, RuleSet
from .vocab import ACTIONS, ROLE_ZH

# refusals that only say "not now": a queued request waits them out
QUEUEABLE = frozenset({"outside_window", "frozen"})
HORIZON_DAYS = 800  # a window that opens later than this is not waited for


@dataclass(frozen=True)
class QueuePolicy:
    """Whether an action's requests may queue at a node: it has a window (or a freeze), and no rule
    switched queuing off."""

    applies: bool  # the action's business has a window or a freeze here
    allowed: bool
    source: str | None = None  # the `queue:` line, when a rule file says it
    windows: tuple[str, ...] = ()  # the window and freeze lines that may close it

    def as_dict(self) -> dict:
        return {"applies": self.applies, "allowed": self.allowed, "source": self.source,
                "windows": list(self.windows)}


@dataclass(frozen=True)
class QueueOption:
    """For one refused filing: may it queue, and when does its window open."""

    possible: bool
    opens_on: date | None = None
    source: str | None = None  # the rule closing the window now, or the one forbidding the queue
    reason: str = ""

    def as_dict(self) -> dict:
        return {"possible": self.possible, "opens_on": self.opens_on.isoformat() if self.opens_on else None,
                "source": self.source, "reason": self.reason}


@dataclass(frozen=True)
class EscalationRule:
    """An overdue step goes, ``after_days`` working days past its deadline, to ``to`` of the level above."""

    after_days: int
    to: str  # a role: supervisor / registrar
    source: str

    @property
    def label(self) -> str:
        return f"逾期 {self.after_days} 个工作日后上报上一级{ROLE_ZH[self.to]}强制干预"

    def as_dict(self) -> dict:
        return {"after_days": self.after_days, "to": self.to, "source": self.source,
                "label": self.label}


def queue_policy(eff: Effective, action: str) -> QueuePolicy:
    """Whether ``action`` may queue under the policy ``eff`` (and the lines that say so)."""
    business = ACTIONS.get(action, (None, None))[1]
    lines = tuple(str(s.source) for layer in eff.windows.get(business, []) for s in layer) + tuple(
        str(s.source) for s in eff.freezes.get(business, []))
    spec = eff.actions.get(action)
    rule = spec.queue if spec is not None else None
    allowed = bool(lines) and (rule is None or rule.value is not False)
    return QueuePolicy(bool(lines), allowed, str(rule.source) if rule else None, lines)


def next_open(eff: Effective, facts: Facts) -> date | None:
    """The first day after ``facts.at`` on which no window or freeze refuses the action."""
    start = facts.at.date()
    for n in range(1, HORIZON_DAYS + 1):
        day = start + timedelta(days=n)
        if not _window(eff, replace(facts, at=datetime(day.year, day.month, day.day))):
            return day
    return None


def queue_option(ruleset: RuleSet, facts: Facts, decision: Decision) -> QueueOption:
    """May this refused filing queue?  Only when every refusal is a closed window or a freeze, the
    rules allow queuing the action, and its window opens within the horizon."""
    closing = [v for v in decision.violations if v.code in QUEUEABLE]
    if not closing:
        return QueueOption(False, reason="办理时间内，直接提交即可")
    eff = ruleset.effective(*facts.codes)
    policy = queue_policy(eff, facts.action)
    if not policy.allowed:
        return QueueOption(False, source=policy.source, reason="规则不允许该业务排队等待")
    if any(v.code not in QUEUEABLE for v in decision.violations):
        return QueueOption(False, source=closing[0].source,
                           reason="除办理时间外还有其他不符合规则之处，须先解决")
    opens = next_open(eff, facts)
    if opens is None:
        return QueueOption(False, source=closing[0].source,
                           reason=f"{HORIZON_DAYS} 天内没有开放的办理时间")
    return QueueOption(True, opens, closing[0].source, f"{opens} 起开放，届时自动提交")


def escalation_for(eff: Effective, action: str) -> EscalationRule | None:
    """The escalation of ``action``'s overdue steps: its own `escalate:`, else the default."""
    spec = eff.actions.get(action)
    rule = spec.escalate if spec is not None and spec.escalate is not None else eff.escalation
    if rule is None:
        return None
    return EscalationRule(rule.value.after_days, rule.value.to, str(rule.source))


def escalation_of(ruleset: RuleSet, codes: tuple[str, ...], action: str) -> EscalationRule | None:
    """The escalation of ``action`` at the node whose chain is ``codes``."""
    return escalation_for(ruleset.effective(*codes), action)


def window_lines(eff: Effective, action: str, codes: tuple[str, ...]) -> tuple[str, ...]:
    """The window and freeze lines that apply to ``action`` in the region of ``codes``."""
    business = ACTIONS.get(action, (None, None))[1]
    ranges = [s for layer in eff.windows.get(business, []) for s in layer] + list(
        eff.freezes.get(business, []))
    return tuple(str(s.source) for s in ranges if _applies(s.value, codes))
