"""No look-up, and no new blind index, while the stored indexes are of another profile.

A blind index is a keyed hash: SHA-256 under the standard profile, SM3 under the 国密 one.  Between
switching ``XUEJI_CRYPTO_PROFILE`` and the end of `keys rotate`, the stored indexes are of one hash
and the running app's of the other: a search would miss a student, and a duplicate ID or registry
number would pass every check and the database's unique constraints.  So `keys rotate` records in
``crypto_state`` the profile it moves to and that it is moving, and the app's keyring asks, once per
request or job (cached in ``flask.g``), before its first blind index: while the stored profile is
not its own, or a rotation is unfinished, the action is refused with the reason (503) -- pages that
need no look-up keep working.
"""

from __future__ import annotations

from datetime import datetime

from flask import g, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import DomainError
from ..i18n import t
from ..models.crypto_state import CryptoState


class RotationUnfinished(DomainError):
    status = 503


def check(profile: str) -> None:
    """Refuse a blind index of ``profile`` unless the stored ones are of it and none is moving."""
    if not has_app_context():
        return
    state = g.get("xueji_blind_state")
    if state is None:
        from ..extensions import db

        row = db.session.execute(select(CryptoState.blind_profile, CryptoState.rotating)
                                 .where(CryptoState.id == 1)).first()
        state = g.xueji_blind_state = tuple(row) if row is not None else ()
    if not state:
        return
    stored, rotating = state
    if rotating:
        raise RotationUnfinished(t(
            f"密钥轮换（移至 {stored} 配置）尚未完成：查找和新建暂停，请运行 run.py keys rotate 完成后再试",
            f"a key rotation to the {stored!r} profile is unfinished: look-ups and new records wait "
            "until `run.py keys rotate` completes"))
    if stored != profile:
        raise RotationUnfinished(t(
            f"数据的盲索引为 {stored} 配置，本进程为 {profile}：请先运行 run.py keys rotate，或按数据的配置重启",
            f"the stored blind indexes are of the {stored!r} profile, this process runs {profile!r}: "
            "run `run.py keys rotate`, or restart with the data's profile"))


def record(session: Session, profile: str, *, rotating: bool, now: datetime) -> None:
    """What `keys rotate` (and `init` of a database without students) says of the stored indexes;
    committed by the caller, so other processes see it at their next request."""
    row = session.get(CryptoState, 1)
    if row is None:
        row = CryptoState(id=1)
        session.add(row)
    row.blind_profile, row.rotating, row.changed_at = profile, rotating, now
    if has_app_context():
        g.pop("xueji_blind_state", None)
