"""The kinds of request, each declared once; every set and dispatch of requests is read from here.

Adding a kind:

1. Write a module in this package whose ``DECLARED`` tuple holds a ``Kind`` (``base.py``) -- or a
   subclass overriding the steps it does differently (``prepare``, ``facts``, ``summary``,
   ``apply``, ``reject``, ...).  The module is found by itself: nothing else lists it.
2. Give the engine its rule entries: the action and the same label in ``app/policy/vocab.py``
   ``ACTIONS`` (and in the engine's ``EXCLUSIVE`` when the kind is exclusive), and the action's
   chain, stages and statuses in ``rules/national.yaml``.

``tests/unit/test_request_kinds.py`` checks that the kinds and the engine's vocabulary agree.
"""

from __future__ import annotations

import importlib
import pkgutil

from ....errors import ValidationFailed
from ....i18n import t
from ....policy.vocab import ACTIONS
from .base import FIELDS, Kind
from .registrations import Registration

__all__ = ["FIELDS", "KINDS", "OWN_STUDENT", "REGISTRATIONS", "STARTABLE", "Kind", "get", "label",
           "startable"]


def _declared() -> list[Kind]:
    """Every ``DECLARED`` kind of this package's modules."""
    found: list[Kind] = []
    for module in pkgutil.iter_modules(__path__):
        found += getattr(importlib.import_module(f"{__name__}.{module.name}"), "DECLARED", ())
    return found


def _registry(declared: list[Kind]) -> dict[str, Kind]:
    """Kinds by name, in the engine's order of actions; a name declared twice fails at start-up."""
    names = [kind.name for kind in declared]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise RuntimeError(f"request kinds declared twice: {', '.join(twice)}")
    order = list(ACTIONS)
    return {kind.name: kind for kind in sorted(
        declared, key=lambda k: (order.index(k.name) if k.name in order else len(order), k.name))}


KINDS: dict[str, Kind] = _registry(_declared())
# kinds a school files; those it files for its own students (a transfer has a page of its own)
STARTABLE = tuple(name for name, kind in KINDS.items() if kind.startable)
OWN_STUDENT = tuple(name for name in STARTABLE if not KINDS[name].from_other_school)
# the reviews a record opens for its own registration
REGISTRATIONS = tuple(name for name, kind in KINDS.items() if isinstance(kind, Registration))


def get(name: str) -> Kind:
    """The declaration of a kind (KeyError for a name nobody declared)."""
    return KINDS[name]


def label(name: str) -> str:
    """What users read for a kind (its name, should none be declared)."""
    kind = KINDS.get(name)
    return kind.label if kind is not None else name


def startable(name: str) -> Kind:
    """The declaration of a kind a school may file, or ValidationFailed naming ``kind``."""
    kind = KINDS.get(name)
    if kind is None or not kind.startable:
        raise ValidationFailed(t(f"不能直接发起 {name}", f"{name} cannot be started here"), "kind")
    return kind
