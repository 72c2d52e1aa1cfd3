"""Notices of requests: to the party a step waits for, and to every party when a request ends."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...models import Notification, Request
from . import kinds, parties


def title(req: Request) -> str:
    """What notices and the history call a request: its kind and its student."""
    return f"{kinds.label(req.kind)} · {req.student_name}"


def notify(session: Session, node: str | None, req: Request, message: str) -> None:
    """One notice to a school or a bureau (none when there is no one to tell)."""
    if node:
        session.add(Notification(node=node, request=req, message=message[:300]))


def notify_parties(session: Session, req: Request, message: str) -> None:
    """The same notice to both schools and to every party of the chain, once each."""
    nodes = {parties.school_node(req.origin_school)}
    if req.other_school is not None:
        nodes.add(parties.school_node(req.other_school))
    nodes |= {step["node"] for step in req.chain}
    for node in sorted(nodes):
        notify(session, node, req, f"{message}：{title(req)}")
