"""Load a YAML file into a pydantic model, mapping validation errors back to file and line.

An administrator who mistypes a field must be told where: "rules.yaml:14: rules[2].action.unit: ...".
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from settings.yaml_guard import alias_problem, duplicate_keys

M = TypeVar("M", bound=BaseModel)

# libyaml's loader when PyYAML was built with it: large rule files load several times faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ConfigError(Exception):
    """One or more problems in a configuration file; str() lists them one per line."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _LineMap:
    """Line numbers (1-based) of every mapping key and sequence item, by path."""

    def __init__(self, root: yaml.Node | None):
        self.lines: dict[tuple, int] = {}
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, path: tuple) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = path + (key.value,)
                self.lines[child] = key.start_mark.line + 1
                self._walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, path + (i,))

    def line_for(self, path: tuple) -> int | None:
        """The line of the deepest part of `path` that exists in the file."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def yaml_lines(text: str) -> "_LineMap":
    """Line numbers of the YAML text's keys and items (`.line_for(path)`), for reports on a file that loaded."""
    try:
        return _LineMap(yaml.compose(text, Loader=_Loader))
    except yaml.YAMLError:
        return _LineMap(None)


def format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _expected(err: dict) -> str:
    kind = err.get("type", "")
    msg = err.get("msg", "")
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; extra fields are not allowed)"
    if kind == "missing":
        return "required field is missing"
    inp = err.get("input")
    if inp is not None and not isinstance(inp, (dict, list)):
        return f"{msg} (got {inp!r})"
    return msg


def _clean_loc(loc: tuple) -> tuple:
    # pydantic adds tagged-union and function-validator names into the location; drop them.
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))


def parse_yaml_model(text: str, model: type[M], file: str = "<string>", context: dict | None = None) -> M:
    """Parse YAML text and validate it as `model`; raise ConfigError naming file, line and field."""
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            _refuse_unsafe_shapes(root, file)
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigProblem(file, line, "", f"not valid YAML: {problem}")]) from None
    if data is None:
        data = {}
    lines = _LineMap(root)
    try:
        result = model.model_validate(data, context=context)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _clean_loc(err["loc"])
            problems.append(ConfigProblem(file, lines.line_for(loc), format_loc(loc), _expected(err)))
        raise ConfigError(problems) from None
    # Checks across fields (unknown references, cycles, duplicates) are reported the same way:
    # a model may define semantic_problems() -> list of (location tuple, message).
    check = getattr(result, "semantic_problems", None)
    if check is not None:
        found = [ConfigProblem(file, lines.line_for(tuple(loc)), format_loc(tuple(loc)), msg) for loc, msg in check()]
        if found:
            raise ConfigError(found)
    return result


def _refuse_unsafe_shapes(root: yaml.Node | None, file: str) -> None:
    """Duplicate keys and runaway aliases, refused before the document becomes data."""
    problems = [ConfigProblem(file, line, format_loc(path), msg) for path, line, msg in duplicate_keys(root)]
    if (aliases := alias_problem(root)) is not None:
        problems.append(ConfigProblem(file, None, "", aliases))
    if problems:
        raise ConfigError(problems)


def read_yaml_text(path: str | Path, what: str = "file") -> str:
    """The text of a YAML file we read; ConfigError naming the file when it cannot be read or is not UTF-8."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([ConfigProblem(str(path), None, "", f"cannot read {what}: {exc.strerror}")]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError([ConfigProblem(str(path), line, "", f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x}); "
                                                             "save it as UTF-8 (GBK and GB18030 are not read)")]) from None


def load_yaml_model(path: str | Path, model: type[M], context: dict | None = None) -> M:
    """Read `path` and validate it as `model`."""
    return parse_yaml_model(read_yaml_text(path), model, file=str(path), context=context)
