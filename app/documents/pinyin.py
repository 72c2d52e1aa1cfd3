"""Names in pinyin, one function for every door (the form, the import, the demo): pypinyin with its
phrase dictionary (张长江 -> Zhang Chang Jiang: a reading per character alone would say Zhang Zhang
Jiang), cached per name -- an import's names repeat, and a cached name costs a dict look-up.

Most names need no segmentation: when no part of a name is one of pypinyin's phrases, the name
reads as its characters read alone, from a table (pypinyin's reading of each character, kept once)
-- a sixth of the cost of segmenting it.  A name holding a phrase (张长江 holds 长江) goes through
pypinyin's segmentation as before; tests/unit/test_pinyin.py holds the two ways equal.

pypinyin is loaded when a first name is read: its tables take about 55 MB in a process, which a
web process or a job that never transliterates a name does not carry.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=None)
def _pypinyin():
    """pypinyin's segmenting reader, its phrases and its table of characters."""
    from pypinyin import lazy_pinyin
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    return lazy_pinyin, phrases_dict, pinyin_dict


@lru_cache(maxsize=None)
def _reading(char: str) -> str | None:
    """A Chinese character's reading as pypinyin gives it alone; None for any other character."""
    lazy_pinyin, _, table = _pypinyin()
    return lazy_pinyin(char)[0] if ord(char) in table else None


def holds_phrase(name: str) -> bool:
    """Whether a part of ``name`` (two characters or more) is one of pypinyin's phrases."""
    phrases = _pypinyin()[1]
    return any(name[i:j] in phrases for i in range(len(name) - 1) for j in range(i + 2, len(name) + 1))


@lru_cache(maxsize=65536)
def pinyin(name: str) -> str:
    """张三 -> Zhang San."""
    readings = [_reading(c) for c in name]
    if not all(readings) or holds_phrase(name):  # a phrase, or a character that is not Chinese
        readings = _pypinyin()[0](name)
    return " ".join(readings).title()
