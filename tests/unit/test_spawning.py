"""Processes that pass large chunks give freed blocks back: glibc's mmap threshold is pinned."""

from __future__ import annotations

import sys

import pytest

from app import spawning


class _Libc:
    def __init__(self):
        self.calls = []

    def mallopt(self, param, value):
        self.calls.append((param, value))
        return 1


@pytest.fixture
def libc(monkeypatch):
    fake = _Libc()
    monkeypatch.setattr(spawning.ctypes, "CDLL", lambda name: fake)
    monkeypatch.setattr(sys, "platform", "linux")
    return fake


def test_the_threshold_is_pinned_at_256_kib_by_default(libc, monkeypatch):
    monkeypatch.delenv("XUEJI_MALLOC_MMAP_THRESHOLD", raising=False)
    spawning.large_blocks_returned()
    assert libc.calls == [(spawning.M_MMAP_THRESHOLD, 256 * 1024)]


def test_the_setting_chooses_the_threshold_and_zero_leaves_glibc_alone(libc, monkeypatch):
    monkeypatch.setenv("XUEJI_MALLOC_MMAP_THRESHOLD", "1048576")
    spawning.large_blocks_returned()
    monkeypatch.setenv("XUEJI_MALLOC_MMAP_THRESHOLD", "0")
    spawning.large_blocks_returned()
    assert libc.calls == [(spawning.M_MMAP_THRESHOLD, 1048576)]


def test_another_c_library_is_left_alone(monkeypatch):
    def missing(name):
        raise OSError(name)

    monkeypatch.setattr(spawning.ctypes, "CDLL", missing)
    spawning.large_blocks_returned()  # no error


def test_the_real_glibc_takes_it():
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc only")
    assert spawning.ctypes.CDLL("libc.so.6").mallopt(spawning.M_MMAP_THRESHOLD, 256 * 1024) == 1
