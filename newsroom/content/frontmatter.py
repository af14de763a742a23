"""Split a release file into YAML front matter and Markdown body, keeping the line of every key."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

FENCE = "---"
# Fields kept exactly as written: a revision like 000000000000 or 1234e5678901 must not become a number.
VERBATIM_FIELDS = frozenset({"revision"})
STR_TAG = "tag:yaml.org,2002:str"
Location = tuple[str | int, ...]


class FrontMatterError(ValueError):
    """The file cannot be read as front matter plus body; `line` is 1-based in the file."""

    def __init__(self, line: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.hint = hint


@dataclass
class Document:
    """A parsed release file: its metadata, body and the file line of each metadata key."""

    meta: dict[str, Any]
    body: str
    body_line: int  # file line where the body starts
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, location: Location) -> int:
        """The file line of a key, or of its nearest enclosing key that has one."""
        for end in range(len(location), 0, -1):
            if location[:end] in self.lines:
                return self.lines[location[:end]]
        return 2 if self.meta else 1


# libyaml's C parser when PyYAML was built with it (about 10x faster); same nodes, same marks.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe YAML where dates stay strings: times are parsed by us, with zones required."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def decode(data: bytes) -> str:
    """UTF-8 text of a file, or a FrontMatterError naming the line of the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FrontMatterError(line, "file is not UTF-8 text", "save the file as UTF-8") from exc
    if not text.strip():
        raise FrontMatterError(1, "file is empty", "add front matter between --- lines and a body")
    return text.removeprefix("\ufeff")


def parse(text: str) -> Document:
    """Front matter between `---` fences, then the Markdown body."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != FENCE:
        raise FrontMatterError(
            1, "missing front matter: the file must start with a line '---'", "add '---' as line 1"
        )
    closing = _closing_fence(lines)
    if closing is None:
        raise FrontMatterError(
            len(lines), "front matter is not closed", "add a line '---' after the last field"
        )
    yaml_text = "".join(lines[1:closing])
    meta, key_lines = _load_yaml(yaml_text, first_line=2)
    body = "".join(lines[closing + 1 :])
    return Document(meta, body, body_line=closing + 2, lines=key_lines)


def body_of(text: str) -> str:
    """The Markdown body of a file `parse` accepts, without parsing its front matter again."""
    lines = text.splitlines(keepends=True)
    closing = _closing_fence(lines)
    if closing is None:
        raise FrontMatterError(
            len(lines), "front matter is not closed", "add a line '---' after the last field"
        )
    return "".join(lines[closing + 1 :])


def _closing_fence(lines: list[str]) -> int | None:
    return next((i for i in range(1, len(lines)) if lines[i].rstrip() == FENCE), None)


def _load_yaml(text: str, first_line: int) -> tuple[dict[str, Any], dict[Location, int]]:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        problem = exc.problem or "malformed YAML"
        if exc.context and exc.context_mark:
            problem = f"{exc.context} started on line {first_line + exc.context_mark.line}: {problem}"
        raise FrontMatterError(line, f"malformed YAML: {problem}", _yaml_hint(problem)) from exc
    except (yaml.YAMLError, RecursionError) as exc:
        raise FrontMatterError(first_line, f"malformed YAML: {exc}", "check the front matter") from exc
    if node is None:
        return {}, {}
    if not isinstance(node, yaml.MappingNode):
        raise FrontMatterError(
            first_line + node.start_mark.line,
            "front matter must be a list of `field: value` lines",
            "write one `field: value` per line",
        )
    builder = _Builder(first_line)
    value = builder.build(node, ())
    assert isinstance(value, dict)
    return value, builder.key_lines


# Every file has the same few locations (("title",), ("contacts", 0, "email"), ...): one shared tuple
# each, so the folder cache pickles each once, not once per file (the cache got 30% smaller and faster).
# Bounded, as front matter may hold any field names.
_SHARED_LOCATIONS: dict[Location, Location] = {}
_MAX_SHARED_LOCATIONS = 10_000


def _shared(location: Location) -> Location:
    shared = _SHARED_LOCATIONS.get(location)
    if shared is not None:
        return shared
    if len(_SHARED_LOCATIONS) < _MAX_SHARED_LOCATIONS:
        _SHARED_LOCATIONS[location] = location
    return location


class _Builder:
    """Plain Python data from YAML nodes, recording the file line of every key and list item.

    Depth and size are bounded: a recursive alias (`&a [*a]`) or an alias bomb is refused, not followed.
    """

    MAX_DEPTH = 20
    MAX_NODES = 5_000

    def __init__(self, first_line: int) -> None:
        self.first = first_line
        self.key_lines: dict[Location, int] = {}
        self.nodes = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def line(self, node: yaml.Node) -> int:
        return self.first + node.start_mark.line

    def build(self, node: yaml.Node, here: Location) -> Any:
        self.nodes += 1
        if len(here) > self.MAX_DEPTH or self.nodes > self.MAX_NODES:
            raise FrontMatterError(
                self.line(node),
                "front matter is nested too deeply or too large",
                "write plain `field: value` lines without anchors (&) and aliases (*)",
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, here)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                location = _shared((*here, index))
                self.key_lines[location] = self.line(item)
                items.append(self.build(item, location))
            return items
        return self.scalar(node)

    def _mapping(self, node: yaml.MappingNode, here: Location) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str | int | float | bool):
                raise FrontMatterError(
                    self.line(key_node), "a field name must be text", "write `name: value`"
                )
            name = sys.intern(str(key))
            if name in mapping:
                raise FrontMatterError(
                    self.line(key_node), f"field {name!r} appears twice", "keep one of the two"
                )
            location = _shared((*here, name))
            self.key_lines[location] = self.line(key_node)
            if name in VERBATIM_FIELDS and isinstance(value_node, yaml.ScalarNode):
                mapping[name] = value_node.value
            else:
                mapping[name] = self.build(value_node, location)
        return mapping

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise FrontMatterError(self.line(node), "a field name must be text", "write `name: value`")
        if node.tag == STR_TAG:  # most values: what construct_object would return, without its cost
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise FrontMatterError(self.line(node), f"malformed value: {problem}", "quote the value") from exc


def _yaml_hint(problem: str) -> str:
    if "flow sequence" in problem:
        return "close the list with ']' on the same line"
    if "mapping values are not allowed" in problem:
        return "put quotes around a value that contains ': '"
    if "found character '\\t'" in problem:
        return "indent with spaces, not tabs"
    return "check indentation and put quotes around values with special characters"
