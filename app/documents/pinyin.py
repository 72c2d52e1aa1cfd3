"""Names in pinyin, one function for every door (the form, the import, the demo): pypinyin with its
phrase dictionary (张长江 -> Zhang Chang Jiang: a reading per character alone would say Zhang Zhang
Jiang), cached per name -- an import's names repeat, and a cached name costs a dict look-up.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import lazy_pinyin


@lru_cache(maxsize=65536)
def pinyin(name: str) -> str:
    """张三 -> Zhang San."""
    return " ".join(lazy_pinyin(name)).title()
