"""Safe YAML reading that remembers line numbers, and stable YAML writing.

Reading uses PyYAML's SafeLoader (the C parser when available): a tag that would construct a Python
object is an error, never code that runs. The data is built in one pass over the parser's events, and
anchors, aliases and deep nesting are refused at the event that carries them, before anything they
would build, which makes an alias bomb a one-line error instead of an exponential walk. Every mapping
and list can keep the line of each key / item, so a validation error can name `path:line`.
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


def _unreadable(value: str, exc: ValueError, mark: yaml.Mark) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(None, None, f"cannot read {value!r}: {exc}", mark)


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    def construct_object(self, node, deep=False):
        if node in self.constructed_objects or node in self.recursive_objects:
            # The composer hands back the same node for an alias: refuse it.
            raise _AliasError(node.start_mark.line + 1)
        if not isinstance(node, yaml.CollectionNode):
            try:
                return super().construct_object(node, deep=deep)
            except ValueError as exc:  # a date that does not exist (2026-02-30)
                raise _unreadable(node.value, exc, node.start_mark) from None
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


_ANCHOR_MESSAGE = "YAML anchors and aliases are not allowed in knowledge files"
_IMPLICIT_STARTS = frozenset(k for k in _BaseLoader.yaml_implicit_resolvers if k)


def _refused(shown: str, event: yaml.Event, message: str) -> KnowledgeError:
    return KnowledgeError([Problem(shown, event.start_mark.line + 1, message)])


def _scan_structure(get_event: Any, shown: str, depth: int, rest_of_document: bool = False) -> None:
    """Refuse anchors, aliases and deep nesting in the events still to come, `depth` levels in.

    To the end of the stream, a syntax error ends the scan quietly (whoever reads the text reports
    it at its line); with `rest_of_document`, the scan stops at the document's end and a syntax error
    is raised.
    """
    try:
        while (event := get_event()) is not None:
            kind = event.__class__
            if kind is yaml.ScalarEvent:
                if event.anchor is not None:
                    raise _refused(shown, event, f"{_ANCHOR_MESSAGE} (anchor &{event.anchor})")
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.anchor is not None:
                    raise _refused(shown, event, f"{_ANCHOR_MESSAGE} (anchor &{event.anchor})")
                depth += 1
                if depth > MAX_NESTING:
                    raise _refused(shown, event, f"nested more than {MAX_NESTING} levels deep")
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                depth -= 1
            elif kind is yaml.AliasEvent:
                raise _refused(shown, event, f"{_ANCHOR_MESSAGE} (alias *{event.anchor})")
            elif kind is yaml.DocumentEndEvent and rest_of_document:
                return
    except yaml.YAMLError:
        if rest_of_document:
            raise


def _check_structure(text: str, shown: str) -> None:
    """Refuse anchors, aliases and deep nesting from the parser's events, before anything is composed.

    The events are what the loader itself will see, so no spelling of an anchor (after a byte-order
    mark, alone on a line, in flow style) can slip past, and nesting is measured without recursion
    (the C composer recurses on the C stack, and tens of thousands of levels would crash the process).
    """
    loader = _BaseLoader(text)
    try:
        _scan_structure(loader.get_event, shown, 0)
    finally:
        loader.dispose()


def _single_document(get_event: Any, shown: str) -> None:
    """After the first document the stream must end; a second one is checked for structure, then refused."""
    following = get_event()
    if following.__class__ is not yaml.StreamEndEvent:
        second = yaml.composer.ComposerError("expected a single document in the stream", None,
                                             "but found another document", following.start_mark)
        _scan_structure(get_event, shown, 0)
        raise second


class _NeedsComposer(Exception):
    """The text uses YAML that only the composing loader builds: a merge key, or a tag on a mapping or list."""


_COLLECTION_TAGS = {yaml.MappingStartEvent: (None, "!", _MAP), yaml.SequenceStartEvent: (None, "!", _SEQ)}
_NO_KEY = object()  # an open mapping waiting for its next key


def _construct_scalar(loader: Any, tag: str, event: yaml.ScalarEvent) -> Any:
    """A scalar's value for its tag: text as it is, anything else (a number, date, boolean, null or
    explicitly tagged scalar) built by the safe constructor."""
    if tag == _STR:
        return event.value
    if tag in _MERGE_KEYS:
        raise _NeedsComposer
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return loader.construct_object(node, deep=True)
    except ValueError as exc:  # a date that does not exist (2026-02-30)
        raise _unreadable(event.value, exc, event.start_mark) from None


def _read_events(text: str, shown: str, keep_lines: bool, plain: dict[str, Any]) -> Any:
    """Refuse hostile structure and build the data in one pass over the C parser's events.

    Composing a node graph first cost more than the parse itself (a node, two marks and a resolver
    call per value), and the safety check read every event a second time. Here each event is looked
    at once: anchors, aliases and deep nesting are refused at the event that carries them; text,
    mappings and lists are built directly; any other scalar (number, date, boolean, null, explicit
    tag) goes through the safe constructor as a node of its own, so what may be constructed is
    unchanged. Problems come out in the order the composing loader gave them: a refusal or syntax
    error where the parser meets it, then a second document, then a value that cannot be built
    (duplicate key, unknown tag). `plain` remembers what each plain scalar read as ("null", "note"
    and "target" recur thousands of times).
    """
    loader = _BaseLoader(text)
    get_event = loader.get_event
    depth = 0
    # Event classes as locals: this loop runs once per event, hundreds of thousands of times in a large base.
    scalar, alias, line_dict, line_list = yaml.ScalarEvent, yaml.AliasEvent, LineDict, LineList
    map_start, seq_start, map_end, seq_end = yaml.MappingStartEvent, yaml.SequenceStartEvent, yaml.MappingEndEvent, yaml.SequenceEndEvent
    implicit_starts, no_key = _IMPLICIT_STARTS, _NO_KEY
    try:
        get_event()  # the stream's start
        if get_event().__class__ is yaml.StreamEndEvent:
            return None  # only comments
        root: Any = None
        parents: list[tuple[Any, bool, Any, Any, int]] = []
        # The open mapping or list (None at the top of the document), whether it is a mapping, the event
        # it starts at, and a mapping's key waiting for its value, with that key's line.
        node: Any = None
        in_map = False
        start: Any = None
        key: Any = no_key
        key_line = 0
        while True:
            event = get_event()
            kind = event.__class__
            if kind is scalar:
                if event.anchor is not None:
                    raise _refused(shown, event, f"{_ANCHOR_MESSAGE} (anchor &{event.anchor})")
                value = event.value
                tag = event.tag
                if tag is None or tag == "!":
                    # Only a plain scalar starting with one of a few characters can be other than text.
                    if (not value or value[0] in implicit_starts) and event.implicit[0]:
                        try:
                            value = plain[value]
                        except KeyError:
                            value = plain[value] = _construct_scalar(loader, loader.resolve(yaml.ScalarNode, value, event.implicit), event)
                elif tag != _STR:
                    value = _construct_scalar(loader, tag, event)
                origin = event
            elif kind is map_start or kind is seq_start:
                if event.anchor is not None:
                    raise _refused(shown, event, f"{_ANCHOR_MESSAGE} (anchor &{event.anchor})")
                depth += 1
                if depth > MAX_NESTING:
                    raise _refused(shown, event, f"nested more than {MAX_NESTING} levels deep")
                if event.tag not in _COLLECTION_TAGS[kind]:
                    raise _NeedsComposer
                parents.append((node, in_map, start, key, key_line))
                start = event
                in_map = kind is map_start
                if not keep_lines:
                    node = {} if in_map else []
                elif in_map:
                    node = line_dict()
                    node.line, node.key_lines = event.start_mark.line + 1, {}
                else:
                    node = line_list()
                    node.line, node.item_lines = event.start_mark.line + 1, []
                key = no_key
                continue
            elif kind is map_end or kind is seq_end:
                depth -= 1
                value, origin = node, start
                node, in_map, start, key, key_line = parents.pop()
            elif kind is alias:
                raise _refused(shown, event, f"{_ANCHOR_MESSAGE} (alias *{event.anchor})")
            else:  # the document's end
                break
            # A finished value: a mapping's key or value, a list's item, or the document itself.
            if not in_map:
                if node is None:
                    root = value
                    continue
                node.append(value)
                if keep_lines:
                    node.item_lines.append(origin.start_mark.line + 1)
            elif key is no_key:
                if value.__class__ is not str and not isinstance(value, (str, int, float, bool)) and value is not None:
                    raise yaml.constructor.ConstructorError(None, None, "a mapping key must be plain text", origin.start_mark)
                if value in node:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {value!r}", origin.start_mark)
                key = value
                if keep_lines:
                    key_line = origin.start_mark.line + 1
            else:
                node[key] = value
                if keep_lines:
                    node.key_lines[key] = key_line
                key = no_key
        _single_document(get_event, shown)
        return root
    except yaml.constructor.ConstructorError:
        # What cannot be built is reported only when the rest of the text is sound, as before.
        _scan_structure(get_event, shown, depth, rest_of_document=True)
        _single_document(get_event, shown)
        raise
    finally:
        loader.dispose()


def _compose(text: str, shown: str) -> Any:
    """The composing loader, for the YAML the one-pass reader leaves to it (merge keys, tagged collections)."""
    _check_structure(text, shown)
    loader = _LineLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_yaml_text(text: str, shown: str, keep_lines: bool = True, plain_scalars: dict[str, Any] | None = None) -> Any:
    """Parse YAML text safely; raise KnowledgeError with `path:line` on any problem.

    Anchors, aliases and deep nesting are refused from the parser's events, before anything they
    would build. With keep_lines (the default) every mapping and list remembers its lines; without
    it, plain dicts and lists are built, and the caller re-parses with lines only when it has a
    problem to point at. A caller reading many files may pass one `plain_scalars` dict for all of
    them: what each plain scalar reads as is then worked out once. It holds values from the files, so
    it is for knowledge only, never for anything about a patient.
    """
    if not text.strip():
        raise KnowledgeError([Problem(shown, 1, "file is empty")])
    try:
        try:
            return _read_events(text, shown, keep_lines, {} if plain_scalars is None else plain_scalars)
        except _NeedsComposer:
            return _compose(text, shown)
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
