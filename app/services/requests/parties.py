"""Who a chain step means: each (role, level) of a decision resolved to a school or a bureau."""

from __future__ import annotations

from ...errors import ValidationFailed
from ...i18n import t
from ...policy import ChainStep
from ...policy.vocab import ROLE_ZH


def school_node(school) -> str:
    """The node name of a school as a party (school:<id>)."""
    return f"school:{school.id}"


def bureau_node(code: str) -> str:
    """The node name of a bureau as a party (bureau:<code>)."""
    return f"bureau:{code}"


def bureau_of(school):
    """The bureau supervising a school (usually its county's)."""
    return school.jurisdiction


def _node(level: str, origin, other) -> tuple[str, str]:
    """(node, name) of a step level, relative to the requesting school ``origin``."""
    if level == "school":
        return school_node(origin), origin.name
    if level == "own_bureau":
        bureau = bureau_of(origin)
        return bureau_node(bureau.code), bureau.name
    if other is None:
        raise ValidationFailed(t("该业务的审批流程需要对方学校", "this chain needs the other school"))
    if level == "other_school":
        return school_node(other), other.name
    if level == "other_bureau":
        bureau = bureau_of(other)
        return bureau_node(bureau.code), bureau.name
    raise ValueError(level)


def _upper(level: str, origin, jurisdictions) -> tuple[str, str]:
    code = origin.city_code if level == "city" else origin.province_code
    node = jurisdictions(code)
    return bureau_node(code), node.name if node else code


def resolve(chain: tuple[ChainStep, ...], origin, other, jurisdictions) -> list[dict]:
    """The concrete parties of a chain; the same party twice in a row acts once."""
    steps: list[dict] = []
    for step in chain:
        if step.level in ("city", "province"):
            node, name = _upper(step.level, origin, jurisdictions)
        else:
            node, name = _node(step.level, origin, other)
        if steps and (steps[-1]["node"], steps[-1]["role"]) == (node, step.role):
            continue
        steps.append({"role": step.role, "level": step.level, "days": step.days,
                      "source": step.source, "node": node,
                      "label": f"{name} {ROLE_ZH[step.role]}"})
    return steps


def account_node(user) -> str | None:
    """The party an account acts for: its school, else its bureau (None: neither)."""
    if getattr(user, "school_id", None):
        return f"school:{user.school_id}"
    node = getattr(user, "jurisdiction", None)
    return bureau_node(node.code) if node is not None else None
