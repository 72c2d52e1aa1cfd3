"""Changes that only move the student's status (休学, 辍学, 退学, 开除, 出境, 死亡)."""

from __future__ import annotations

from .base import Kind

DECLARED = (
    Kind("suspend", "休学", status_after="suspended"),
    Kind("dropout", "辍学", status_after="dropout"),
    Kind("withdraw", "退学", status_after="left_other"),
    Kind("expel", "开除", status_after="left_other"),
    Kind("abroad", "出境", status_after="abroad"),
    Kind("death", "死亡", status_after="deceased"),
)
