"""Reading a board file: a bounded UTF-8 file, strict YAML, schema errors in words."""

from __future__ import annotations

import errno
import json
import reprlib
import stat
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from tinygen.errors import BoardError, TinygenError
from tinygen.resources import boards_dir

# Shipped board files are 1-2 KB; a limit keeps a wrong path (a log, an image) from being parsed.
MAX_BOARD_FILE_BYTES = 256 * 1024
_MAX_PROBLEM_CHARS = 300
_ADDRESS_KEYS = frozenset({"origin", "base"})
_TYPE_WORDS = {"integer": "a whole number", "string": "text", "object": "a mapping (key: value)",
               "array": "a list", "boolean": "true or false", "number": "a number"}


def _brief_repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlevel = 40, 40, 2
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = 4
    return r


_BRIEF = _brief_repr()


def brief(value: object) -> str:
    """A repr of at most ~40 characters, so an error line stays one readable line."""
    return _BRIEF.repr(value)


class _StrictLoader(yaml.SafeLoader):
    """YAML without aliases, anchors, merge keys or repeated keys: a board file is plain data,
    and an alias can expand a 1 KB file into gigabytes (a "billion laughs")."""

    kind = "board"  # what the messages call the file

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        anchor, mark = getattr(event, "anchor", None), event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise ComposerError(None, None,
                                f"alias *{anchor} is not allowed in a {self.kind} file", mark)
        if anchor is not None:
            raise ComposerError(None, None,
                                f"anchor &{anchor} is not allowed in a {self.kind} file", mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConstructorError(
                    None, None, f"merge keys (<<) are not allowed in a {self.kind} file",
                    key_node.start_mark)
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
            except TypeError:
                continue  # unhashable: SafeConstructor refuses it below
            if repeated:
                raise ConstructorError(None, None, f"key {brief(key)} appears twice in one "
                                       "mapping", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@cache
def _loader(kind: str) -> type[_StrictLoader]:
    return type(f"_{kind.title()}Loader", (_StrictLoader,), {"kind": kind})


def check_data_path(path: Path, kind: str = "board", error: type[TinygenError] = BoardError,
                    max_bytes: int = MAX_BOARD_FILE_BYTES,
                    missing_hint: str = "check the path, or pass a board name (tinygen boards)"
                    ) -> None:
    """Refuse what is not a readable regular file of at most ``max_bytes``, saying what it is
    instead (``kind``: "board", "sweep", for the messages)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise error(f"{kind} file {path} is a symbolic link to a missing file",
                             hint=f"point the link at a {kind} .yaml file") from None
        raise error(f"{kind} file {path} does not exist",
                         hint=missing_hint) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(f"{kind} file {path} is a symbolic link loop",
                             hint=f"point the link at a {kind} .yaml file") from None
        raise error(f"{kind} file {path} cannot be read: {exc.strerror}",
                         hint="check the path and its permissions") from None
    except ValueError as exc:  # an embedded NUL byte
        raise error(f"{kind} file {brief(str(path))} is not a valid path: {exc}",
                         hint="check the path") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{kind} file {path} is a folder, not a file",
                         hint=f"pass the {kind} .yaml file inside it")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{kind} file {path} is not a regular file",
                         hint=f"pass a {kind} .yaml file")
    if info.st_size > max_bytes:
        raise error(f"{kind} file {path} is {info.st_size:,} bytes; board files are a few "
                         f"KB (at most {max_bytes:,} bytes)",
                    hint=f"check that the path names a {kind} file")


def check_board_path(path: Path) -> None:
    """check_data_path for a board file."""
    check_data_path(path)


def read_yaml_file(path: Path, kind: str = "board", error: type[TinygenError] = BoardError,
                   max_bytes: int = MAX_BOARD_FILE_BYTES,
                   missing_hint: str = "check the path, or pass a board name (tinygen boards)"
                   ) -> object:
    """The parsed contents of a bounded UTF-8 YAML data file (strict, see parse_yaml)."""
    check_data_path(path, kind, error, max_bytes, missing_hint)
    try:
        data = path.read_bytes()[:max_bytes + 1]
    except OSError as exc:
        raise error(f"{kind} file {path} cannot be read: {exc.strerror}",
                    hint="check the path and its permissions") from None
    if len(data) > max_bytes:
        raise error(f"{kind} file {path} is over {max_bytes:,} bytes",
                    hint=f"check that the path names a {kind} file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise error(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02X} on line {line})",
                    hint=f"save the {kind} file as UTF-8") from None
    return parse_yaml(text, path, kind, error)


def read_board_yaml(path: Path) -> object:
    """The parsed contents of the board file at ``path``."""
    return read_yaml_file(path)


def parse_board_yaml(text: str, path: Path) -> object:
    """parse_yaml for a board file."""
    return parse_yaml(text, path)


def parse_yaml(text: str, path: Path, kind: str = "board",
               error: type[TinygenError] = BoardError) -> object:
    """``text`` as YAML data, refusing aliases, anchors and repeated keys."""
    try:
        return yaml.load(text, Loader=_loader(kind))  # a SafeLoader subclass
    except yaml.reader.ReaderError as exc:
        line = text[:exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise error(f"{path}: not valid YAML (line {line}): character U+{ord(char):04X} "
                         "is not allowed", hint=f"remove it; {kind} files are plain text") from None
    except yaml.MarkedYAMLError as exc:
        at = f" (line {exc.problem_mark.line + 1})" if exc.problem_mark is not None else ""
        problem = exc.problem or "syntax error"
        if exc.context and f"in a {kind} file" not in problem:
            problem = f"{exc.context}, {problem}"
        hint = ("write the values out in full" if f"in a {kind} file" in problem else
                "remove one of them" if "appears twice" in problem else
                "check the indentation and brackets there")
        raise error(f"{path}: not valid YAML{at}: {_bounded(problem)}", hint=hint) from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {_bounded(str(exc))}",
                         hint="check the file's syntax") from None
    except RecursionError:
        raise error(f"{path}: not valid YAML: nested too deeply",
                         hint=f"a {kind} file nests a few levels; check the brackets") from None


def _bounded(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_PROBLEM_CHARS else text[:_MAX_PROBLEM_CHARS - 3] + "..."


def key_path(error: jsonschema.ValidationError) -> str:
    """``memory[0].size`` for the schema path ['memory', 0, 'size']."""
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else f".{brief(part)[1:-1]}"
    return text.lstrip(".") or "(top level)"


def _limit(key: str, value: object) -> str:
    if isinstance(value, int) and value >= 0 and key.rsplit(".", 1)[-1] in _ADDRESS_KEYS:
        return f"0x{value:X}"
    return f"{value:,}" if isinstance(value, int) and value >= 100_000 else str(value)


def describe_schema_error(error: jsonschema.ValidationError,
                          schema_hint: str = "see boards/board.schema.json for the fields a "
                                             "board file takes") -> tuple[str, str, str]:
    """(key, problem, hint) for one schema error, with the instance's repr kept short;
    ``schema_hint`` where no more specific hint fits."""
    key, kind, got = key_path(error), error.validator, error.instance
    want: Any = error.validator_value
    schema: Any = error.schema
    hint = schema_hint
    if kind == "type":
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in ([want] if isinstance(want, str)
                                                             else want))
        problem = f"must be {words}, not {brief(got)}"
        if want == "integer" and isinstance(got, float):
            hint = "write whole numbers without a decimal point or exponent, e.g. 0x20000000"
        elif want == "integer" and isinstance(got, str):
            hint = "write the number without quotes or units, e.g. 115200 or 0x40004000"
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
              "exclusiveMaximum": "<"}[str(kind)]
        problem = f"must be {op} {_limit(key, want)}, not {_limit(key, got)}"
        hint = "check the datasheet's value and unit (addresses and sizes in bytes, rates in Hz)"
    elif kind == "multipleOf":
        problem = f"must be a multiple of {want}, not {_limit(key, got)}"
        hint = "registers and memory regions are word-aligned"
    elif kind == "not":
        problem = f"must be one line of printable text, not {brief(got)}"
        hint = "remove the line breaks and control characters"
    elif kind == "enum":
        problem = f"{brief(got)} is not one of {', '.join(repr(v) for v in want)}"
    elif kind == "additionalProperties" and isinstance(got, dict):
        extra = [k for k in got if k not in schema.get("properties", {})]
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        problem = f"{brief(extra[0]) if extra else 'a key'} was unexpected{more}"
        hint = f"the keys here are {', '.join(schema.get('properties', {}))}"
    elif kind == "pattern":
        problem = f"{brief(got)} does not match {want}"
        hint = schema.get("description", hint)
    elif kind == "maxLength":
        problem = f"is longer than {want} characters"
    elif kind == "minItems":
        problem = f"needs at least {want} entries"
    elif kind == "maxItems":
        problem = f"takes at most {want} entries"
    else:
        problem = error.message
    return key, _bounded(problem), hint


def _is_integer(_checker: object, value: object) -> bool:
    # JSON Schema counts 1.0 as an integer; a board file means an int, and a float in a linker
    # script or a C literal breaks the build.
    return isinstance(value, int) and not isinstance(value, bool)


@cache
def strict_validator(schema_path: Path) -> Any:
    """A validator for the JSON schema at ``schema_path`` in which 1.0 is no integer."""
    with schema_path.open() as f:
        schema = json.load(f)
    base = jsonschema.Draft202012Validator
    types = base.TYPE_CHECKER.redefine("integer", _is_integer)
    extend: Any = jsonschema.validators.extend
    return extend(base, type_checker=types)(schema)


def _validator() -> Any:
    return strict_validator(boards_dir() / "board.schema.json")


def schema_problem(raw: object) -> tuple[str, str, str] | None:
    """(key, problem, hint) of the first schema error in ``raw``, type errors first; or None."""
    errors = sorted(_validator().iter_errors(raw),
                    key=lambda e: ([str(p) for p in e.absolute_path], e.validator != "type"))
    return describe_schema_error(errors[0]) if errors else None
