"""The TOTP second factor (RFC 6238, through pyotp): a secret per account, encrypted with the
keyring and bound to the account; a code is accepted once (its 30 s step is remembered, so the same
code — or an older one — is refused), one step either side for clocks a little off."""

from __future__ import annotations

import hmac
import time

import pyotp
import segno
from sqlalchemy.orm import Session

from ..models import AccountTotp, XuejiUser
from ..models.base import keyring, local_now
from .crypto import aad_for
from .duties import admin_duties, grants_of
from .scoping import account_roles

STEP = 30  # seconds (pyotp's default, what authenticator apps expect)


def required_functions(config) -> set[str]:
    return {f.strip() for f in (config.get("XUEJI_TOTP_REQUIRED_FOR") or "").split(",") if f.strip()}


def required(user: XuejiUser, config) -> bool:
    """Whether the account's roles oblige it to use a second factor: administrators, built-in or
    by a custom role holding an administrator's duties."""
    functions = required_functions(config)
    roles = account_roles(user)
    return any(r.function in functions for r in roles) or bool(admin_duties(grants_of(roles)) & functions)


def _aad(user_id: int) -> bytes:
    return aad_for("account_totp", "secret", str(user_id))


def record_of(session: Session, user: XuejiUser, *, lock: bool = False) -> AccountTotp | None:
    """The account's second factor; ``lock``: its row locked and read afresh, so that one code
    sent to two app processes at once is accepted by one of them only (the step remembered by
    the first is seen by the second)."""
    return session.get(AccountTotp, user.id, with_for_update=lock or None, populate_existing=lock)


def enrolled(session: Session, user: XuejiUser) -> bool:
    row = record_of(session, user)
    return row is not None and row.confirmed_at is not None


def begin(session: Session, user: XuejiUser) -> str:
    """A new secret for the account, kept encrypted and unconfirmed until a code proves the
    authenticator has it; returns the secret (shown once)."""
    secret = pyotp.random_base32()
    row = record_of(session, user) or AccountTotp(user_id=user.id)
    row.secret = keyring().encrypt(secret, _aad(user.id))
    row.created_at, row.confirmed_at, row.last_step = local_now(), None, None
    session.add(row)
    return secret


def provisioning_uri(user: XuejiUser, secret: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (typed in or from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The URI as a QR code an authenticator app scans: inline SVG made here (segno), no image
    service, no script; the secret never leaves the page."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, title="otpauth")


def accept(row: AccountTotp, code: str, now: float | None = None) -> bool:
    """Whether ``code`` is good now and was not used before; the step is remembered if so."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    otp = pyotp.TOTP(keyring().decrypt(row.secret, _aad(row.user_id)))
    current = int((time.time() if now is None else now) // STEP)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(otp.generate_otp(step), code):
            if row.last_step is not None and step <= row.last_step:
                return False  # replayed: this code (or a later one) was accepted already
            row.last_step = step
            return True
    return False


def confirm(session: Session, user: XuejiUser, code: str) -> bool:
    """Finish enrolment with a first code from the authenticator."""
    row = record_of(session, user, lock=True)
    if row is None or row.confirmed_at is not None or not accept(row, code):
        return False
    row.confirmed_at = local_now()
    return True


def verify(session: Session, user: XuejiUser, code: str) -> bool:
    """A code of an enrolled account, at sign-in."""
    row = record_of(session, user, lock=True)
    return row is not None and row.confirmed_at is not None and accept(row, code)


def remove(session: Session, user: XuejiUser) -> bool:
    """Forget the account's second factor (a lost phone); False when it had none."""
    row = record_of(session, user)
    if row is None:
        return False
    session.delete(row)
    return True
