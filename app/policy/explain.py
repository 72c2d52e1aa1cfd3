"""What the rules say about one school-year business at one node, every value with its file:line:
the windows and freezes, the graduation conditions, the promotion's carry-over switch and the
approval chain (``run.py rules explain promotion|graduate|complete``)."""

from __future__ import annotations

from datetime import datetime

from .engine import Facts, _applies, _chain, _dates, conditions_text, graduation_conditions
from .ruleset import Effective
from .vocab import ACTIONS, BUSINESSES

TOPICS = {"promotion": "promote", "graduate": "graduate", "complete": "complete"}


def business_rules(eff: Effective, action: str, codes: tuple[str, ...], stage: str | None,
                   at: datetime) -> dict:
    """The rules of ``action`` at the node whose chain is ``codes``, as plain values."""
    business = ACTIONS[action][1]
    windows = [{"dates": _dates(s.value), "regions": list(s.value.regions), "source": str(s.source)}
               for layer in eff.windows.get(business or "", []) for s in layer
               if _applies(s.value, codes)]
    freezes = [{"dates": _dates(s.value), "final_grade": s.value.final_grade,
                "reason": s.value.reason, "source": str(s.source)}
               for s in eff.freezes.get(business or "", []) if _applies(s.value, codes)]
    out = {"action": action, "label": ACTIONS[action][0], "business": business,
           "business_label": BUSINESSES.get(business or "", ""), "stage": stage,
           "windows": windows, "freezes": freezes,
           "chain": [s.as_dict() for s in _chain(eff, Facts(action, at, codes, stage=stage))]}
    if action in ("graduate", "complete"):
        required = graduation_conditions(eff, stage)
        out["conditions"] = [{"item": k, "source": v} for k, v in required.items()]
        out["conditions_text"] = conditions_text(required) if required else None
    if action == "promote":
        switch = eff.switches.get("promotion_carry_over")
        out["carry_over"] = {"value": bool(switch and switch.value),
                             "source": str(switch.source) if switch else None}
    return out
