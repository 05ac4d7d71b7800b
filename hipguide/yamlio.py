"""Safe YAML reading that remembers line numbers, and stable YAML writing.

Reading uses PyYAML's SafeLoader (the C parser when available): a tag that would construct a Python
object is an error, never code that runs. Anchors, aliases and deep nesting are refused from the
parser's events before anything is built, which makes an alias bomb a one-line error instead of an
exponential walk. Every mapping and list keeps the line of
each key / item, so a validation error can name `path:line`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 2_000_000  # knowledge files are small; anything larger is a mistake or an attack

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the knowledge base, reported as `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class KnowledgeError(Exception):
    """Raised with every problem found, never with a traceback for the user."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class LineDict(dict):
    """A dict that remembers the line of each key (1-based) and its own line."""

    __slots__ = ("key_lines", "line")


class LineList(list):
    """A list that remembers the line of each item (1-based) and its own line."""

    __slots__ = ("item_lines", "line")


class _AliasError(yaml.YAMLError):
    def __init__(self, line: int):
        self.line = line


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    def construct_object(self, node, deep=False):
        if node in self.constructed_objects or node in self.recursive_objects:
            # The composer hands back the same node for an alias: refuse it.
            raise _AliasError(node.start_mark.line + 1)
        if not isinstance(node, yaml.CollectionNode):
            return super().construct_object(node, deep=deep)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_NESTING:
                raise _TooDeep(node.start_mark.line + 1)
            return super().construct_object(node, deep=deep)
        finally:
            self._depth -= 1


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be plain text", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def read_text(path: Path, shown: str) -> str:
    """Read a UTF-8 text file or raise KnowledgeError naming the file."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise KnowledgeError([Problem(shown, 1, f"cannot read file: {exc.strerror}")]) from None
    if size > MAX_FILE_BYTES:
        raise KnowledgeError([Problem(shown, 1, f"file is too large ({size:,} bytes; limit {MAX_FILE_BYTES:,})")])
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise KnowledgeError([Problem(shown, 1, "binary file (contains NUL bytes), expected UTF-8 text")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise KnowledgeError([Problem(shown, line, "not valid UTF-8 text")]) from None


MAX_NESTING = 50  # knowledge files nest a handful of levels; far deeper is a mistake or an attack

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE_KEYS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")


class _TooDeep(yaml.YAMLError):
    def __init__(self, line: int):
        self.line = line


class _FastLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Plain safe loading without line bookkeeping (anchors and aliases were refused from the events already).

    Text, mappings and lists (nearly every node) are built directly, a third faster than the generic
    constructor; every other tag still goes through SafeConstructor, so what may be constructed is
    unchanged. Like the careful loader, it refuses duplicate keys rather than keep the last one.
    """

    def construct_document(self, node: yaml.Node) -> Any:
        try:
            return self._plain(node, 1)
        finally:
            self.constructed_objects = {}
            self.recursive_objects = {}

    def _plain(self, node: yaml.Node, depth: int) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        if depth > MAX_NESTING:
            raise _TooDeep(node.start_mark.line + 1)
        if tag == _MAP:
            result = {}
            for key_node, value_node in node.value:
                if key_node.tag in _MERGE_KEYS:
                    self.flatten_mapping(node)  # folds every merge key in; then build afresh
                    return self._plain(node, depth)
                key = self._plain(key_node, depth + 1)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise yaml.constructor.ConstructorError(None, None, "a mapping key must be plain text", key_node.start_mark)
                if key in result:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
                result[key] = self._plain(value_node, depth + 1)
            return result
        if tag == _SEQ:
            return [self._plain(child, depth + 1) for child in node.value]
        return self.construct_object(node, deep=True)

    # The C composer asks for the tag of every untagged node. Knowledge files use no path
    # resolvers, and only a plain scalar starting with one of a few characters can be other than
    # text (a number, date, boolean or null), so the rest are answered without the regex scan.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0] and (not value or value[0] in _IMPLICIT_STARTS):
                return super().resolve(kind, value, implicit)
            return _STR
        return _MAP if kind is yaml.MappingNode else _SEQ


_IMPLICIT_STARTS = frozenset(k for k in _FastLoader.yaml_implicit_resolvers if k)


_ANCHOR_MESSAGE = "YAML anchors and aliases are not allowed in knowledge files"


def _check_structure(text: str, shown: str) -> None:
    """Refuse anchors, aliases and deep nesting from the parser's events, before anything is composed.

    The events are what the loader itself will see, so no spelling of an anchor (after a byte-order
    mark, alone on a line, in flow style) can slip past, and nesting is measured without recursion
    (the C composer recurses on the C stack, and tens of thousands of levels would crash the process).
    A syntax error stops the scan; the load then reports it at its line.
    """
    loader = _BaseLoader(text)
    depth = 0
    get_event = loader.get_event
    try:
        while (event := get_event()) is not None:
            kind = event.__class__
            if kind is yaml.ScalarEvent:
                if event.anchor is not None:
                    raise KnowledgeError([Problem(shown, event.start_mark.line + 1, f"{_ANCHOR_MESSAGE} (anchor &{event.anchor})")])
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.anchor is not None:
                    raise KnowledgeError([Problem(shown, event.start_mark.line + 1, f"{_ANCHOR_MESSAGE} (anchor &{event.anchor})")])
                depth += 1
                if depth > MAX_NESTING:
                    raise KnowledgeError([Problem(shown, event.start_mark.line + 1, f"nested more than {MAX_NESTING} levels deep")])
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                depth -= 1
            elif kind is yaml.AliasEvent:
                raise KnowledgeError([Problem(shown, event.start_mark.line + 1, f"{_ANCHOR_MESSAGE} (alias *{event.anchor})")])
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()


def load_yaml_text(text: str, shown: str, keep_lines: bool = True) -> Any:
    """Parse YAML text safely; raise KnowledgeError with `path:line` on any problem.

    Anchors, aliases and deep nesting are refused first, from the parser's events. With keep_lines
    (the default) every mapping and list remembers its lines. Without it, the plain safe loader reads
    the text about three times faster; the caller re-parses with lines only when it has a problem to
    point at.
    """
    if not text.strip():
        raise KnowledgeError([Problem(shown, 1, "file is empty")])
    _check_structure(text, shown)
    loader = _LineLoader(text) if keep_lines else _FastLoader(text)
    try:
        return loader.get_single_data()
    except (_TooDeep, RecursionError) as exc:
        line = getattr(exc, "line", 1)
        raise KnowledgeError([Problem(shown, line, f"nested more than {MAX_NESTING} levels deep")]) from None
    except _AliasError as exc:
        raise KnowledgeError([Problem(shown, exc.line, "YAML anchors and aliases are not allowed in knowledge files (anchor defined here)")]) from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or "cannot be read"
        if "could not determine a constructor" in problem:
            found = re.search(r"'([^']*)'", problem)
            tag = (found.group(1) if found else "?").replace("tag:yaml.org,2002:", "!!")
            problem = f"YAML tag {tag} is not allowed: knowledge files hold plain data only"
        raise KnowledgeError([Problem(shown, line, problem)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise KnowledgeError([Problem(shown, line, f"YAML syntax error: {problem}")]) from None
    finally:
        loader.dispose()


def load_yaml_file(path: Path, shown: str) -> Any:
    return load_yaml_text(read_text(path, shown), shown)


def line_of(data: Any, loc: tuple[Any, ...]) -> int:
    """The line of the deepest element of `loc` (a pydantic error location) found in `data`."""
    line = getattr(data, "line", 1)
    node = data
    for key in loc:
        if isinstance(node, LineDict) and key in node:
            line = node.key_lines.get(key, line)
            node = node[key]
        elif isinstance(node, LineList) and isinstance(key, int) and 0 <= key < len(node):
            line = node.item_lines[key]
            node = node[key]
        else:
            break
    return line


class _StableDumper(yaml.SafeDumper):
    """Block style, keys in the order given, long text folded: small, reviewable diffs."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if len(value) > 80:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=">")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.SequenceNode:
    # Short lists of ids stay on one line ([acute, recovery]), as the hand-written files have them.
    flow = all(isinstance(v, (str, int, float)) and len(str(v)) < 40 for v in value) and len(str(value)) < 90
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_StableDumper.add_representer(str, _represent_str)
_StableDumper.add_representer(list, _represent_list)
_StableDumper.add_representer(LineDict, yaml.representer.SafeRepresenter.represent_dict)
_StableDumper.add_representer(LineList, _represent_list)


def dump_yaml(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=_StableDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=96,
        indent=2,
    )
