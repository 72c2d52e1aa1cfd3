"""YAML with line numbers: every key and item remembers where it was written; duplicate keys are errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

Path = tuple  # ("actions", "suspend", "chain", 0, "role")


@dataclass
class Problem:
    """One problem in one rule file: rendered as ``rules/<file>:<line>: <path>: <message>``."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message}


@dataclass
class Located:
    """Plain data parsed from one file, with the line of every path in it."""

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    incomplete: bool = False  # a value could not be read: checking the shape would only echo it

    def line(self, path: Path) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def problem(self, path: Path, message: str) -> Problem:
        return Problem(self.file, self.line(path), dotted(path), message)


def dotted(path: Path) -> str:
    return ".".join(str(p) for p in path)


def _scalar(constructor: SafeConstructor, node, path: Path, out: Located, problems: list[Problem]):
    try:
        return constructor.construct_object(node, deep=True)
    except ConstructorError as exc:
        out.incomplete = True
        problems.append(Problem(out.file, node.start_mark.line + 1, dotted(path),
                                f"cannot read this value: {exc.problem}"))
        return None


def _convert(node, path: Path, out: Located, problems: list[Problem],
             constructor: SafeConstructor) -> Any:
    if isinstance(node, MappingNode):
        result: dict = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                out.incomplete = True
                problems.append(Problem(out.file, line, dotted(path),
                                        "merge keys (<<) are not supported: write the keys out"))
                continue
            key = _scalar(constructor, key_node, path, out, problems)
            if not isinstance(key, (str, int)):
                problems.append(Problem(out.file, line, dotted(path), f"key {key!r} must be text"))
                continue
            if key in result:
                problems.append(Problem(out.file, line, dotted(path + (key,)),
                                        f"duplicate key {key!r} (first on line {out.lines[path + (key,)]})"))
                continue
            out.lines[path + (key,)] = line
            result[key] = _convert(value_node, path + (key,), out, problems, constructor)
        return result
    if isinstance(node, SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            out.lines[path + (i,)] = item.start_mark.line + 1
            items.append(_convert(item, path + (i,), out, problems, constructor))
        return items
    if isinstance(node, ScalarNode):
        return _scalar(constructor, node, path, out, problems)
    return None


def parse(file: str, text: str | bytes) -> tuple[Located, list[Problem]]:
    """Parse ``text``; syntax errors and duplicate keys come back as problems, never raised."""
    out = Located(file, None)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            return out, [Problem(file, line, "", "the file is not UTF-8 text (save it as UTF-8)")]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return out, [Problem(file, line, "", f"YAML syntax error: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return out, [Problem(file, 1, "", f"YAML error: {exc}")]
    problems: list[Problem] = []
    if node is None:
        return out, [Problem(file, 1, "", "the file is empty")]
    # one constructor per parse: it caches every node it builds
    out.data = _convert(node, (), out, problems, SafeConstructor())
    return out, problems
