"""YAML reading that keeps the line of every value, so errors can name it."""

from pathlib import Path

import yaml

from loaders.errors import LoadError, LoadIssue


# libyaml's parser when PyYAML was built with it (about 10x faster); the same nodes and line marks.
COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


STR_TAG = "tag:yaml.org,2002:str"


class LineDict(dict):
    """A mapping that remembers its own line and the line of each value (1-based)."""

    line: int
    value_lines: dict
    block_keys: set  # keys whose value is a block scalar (| or >): its text starts on the next line


class LineList(list):
    line: int
    item_lines: list


def _convert(node, constructor):
    if isinstance(node, yaml.MappingNode):
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.value_lines = {}
        result.block_keys = set()
        for key_node, value_node in node.value:
            key = key_node.value if key_node.tag == STR_TAG else constructor.construct_object(key_node, deep=True)
            if key in result:
                raise _error_at(key_node, f"duplicate key {key!r}")
            result[key] = _convert(value_node, constructor)
            result.value_lines[key] = value_node.start_mark.line + 1
            if isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">"):
                result.block_keys.add(key)
        return result
    if isinstance(node, yaml.SequenceNode):
        result = LineList(_convert(item, constructor) for item in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [item.start_mark.line + 1 for item in node.value]
        return result
    if node.tag == STR_TAG:  # most values: the scalar's text is the value, no constructor needed
        return node.value
    return constructor.construct_object(node, deep=True)


class _NodeError(Exception):
    def __init__(self, line: int, message: str):
        self.line, self.message = line, message


def _error_at(node, message: str) -> _NodeError:
    return _NodeError(node.start_mark.line + 1, message)


def read_yaml(path: Path):
    """Parse a YAML file into LineDict/LineList/scalars; a syntax error is a LoadError at its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError([LoadIssue(path, 1, f"not valid UTF-8: {exc.reason}")]) from exc
    try:
        node = yaml.compose(text, Loader=COMPOSER)
        if node is None:
            raise LoadError([LoadIssue(path, 1, "the file is empty")])
        return _convert(node, yaml.SafeLoader(""))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise LoadError([LoadIssue(path, line, f"YAML syntax: {exc.problem or exc}")]) from exc
    except _NodeError as exc:
        raise LoadError([LoadIssue(path, exc.line, exc.message)]) from exc
