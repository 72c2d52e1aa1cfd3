"""Names in pinyin: the character table and pypinyin's segmentation read every name alike."""

from __future__ import annotations

import random

import pytest
from pypinyin import lazy_pinyin
from pypinyin.phrases_dict import phrases_dict

from app.documents import pinyin as module
from app.documents.pinyin import pinyin


def _segmented(name: str) -> str:
    return " ".join(lazy_pinyin(name)).title()


@pytest.mark.parametrize(("name", "expected"), [
    ("张三", "Zhang San"),
    ("张长江", "Zhang Chang Jiang"),  # 长江 is a phrase: not Zhang Zhang Jiang
    ("单田芳", _segmented("单田芳")),
    ("阿依古丽·买买提", _segmented("阿依古丽·买买提")),
    ("Anna 李", _segmented("Anna 李")),
    ("", ""),
])
def test_known_names(name, expected):
    assert pinyin.__wrapped__(name) == expected


def test_a_name_holding_a_phrase_is_segmented():
    assert module.holds_phrase("张长江") and not module.holds_phrase("张三")


def test_random_names_read_as_pypinyin_reads_them():
    """20,000 names of common and many-reading characters, some holding two-character phrases:
    the table's reading is pypinyin's, name by name."""
    rng = random.Random(20261201)
    chars = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
                 "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
                 "子涵梓轩浩宇欣怡雨萱一诺思远嘉乐长华重行朝单曾解查翟仇区朴长乐和平安康")
    phrases = [p for p in phrases_dict if len(p) == 2][:5000]
    names = []
    for _ in range(20000):
        name = "".join(rng.choice(chars) for _ in range(rng.randint(2, 4)))
        if rng.random() < 0.2:
            name = rng.choice(chars) + rng.choice(phrases)
        names.append(name)
    assert sum(not module.holds_phrase(n) for n in names) > 10000  # the table's path is taken
    assert [pinyin.__wrapped__(n) for n in names] == [_segmented(n) for n in names]


def test_pypinyin_is_loaded_only_when_a_name_is_read():
    """A process that reads no name does not carry pypinyin's tables (about 55 MB)."""
    import subprocess
    import sys

    code = ("import sys, app.documents.pinyin as p, app.services.exchange.import_cells, "
            "app.services.record.students; loaded = 'pypinyin' in sys.modules; p.pinyin('张三'); "
            "print(loaded, 'pypinyin' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
