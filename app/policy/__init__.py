"""The rule engine: pure Python (no Flask, SQLAlchemy or WTForms), facts in, decision out.

    ruleset = load_dir("rules")            # raises RuleSetInvalid listing every problem
    decision = evaluate(ruleset, Facts(action="transfer", at=now, codes=("430000", ...), ...))
"""

from .engine import ChainStep, Decision, Facts, Violation, evaluate
from .ruleset import Effective, RuleSet, RuleSetInvalid, Source, load_dir, load_texts, read_dir
from .vocab import ACTIONS, BUSINESSES, STAGES, SWITCHES

__all__ = [
    "ACTIONS", "BUSINESSES", "ChainStep", "Decision", "Effective", "Facts", "RuleSet",
    "RuleSetInvalid", "STAGES", "SWITCHES", "Source", "Violation", "evaluate", "load_dir",
    "load_texts", "read_dir",
]
