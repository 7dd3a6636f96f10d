"""gazetteer.yaml beside units.yaml: read and validated with units.yaml's stations, or absent (no extra places)."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from settings import parse_yaml_model
from settings.yaml_loader import read_yaml_text

from dispatch.directory import UnitDirectory
from dispatch.gazetteer_schema import GazetteerFile

FILE_NAME = "gazetteer.yaml"


def gazetteer_path(units_path: str | Path) -> Path:
    """Where the gazetteer of a units file is: gazetteer.yaml in the same folder."""
    return Path(units_path).parent / FILE_NAME


def parse_gazetteer(text: str, units: UnitDirectory, file: str = FILE_NAME) -> GazetteerFile:
    """Validate the text of a gazetteer file; raises settings.ConfigError naming file, line and field."""
    return parse_yaml_model(text, GazetteerFile, file=file, context={"units": units})


def read_gazetteer_text(path: str | Path) -> str | None:
    """The file's text, or None if there is no such file (a gazetteer is optional)."""
    path = Path(path)
    if not path.exists():
        return None
    return read_yaml_text(path)


def load_gazetteer(units_path: str | Path, units: UnitDirectory, path: str | Path | None = None) -> GazetteerFile:
    """The gazetteer beside `units_path` (or at `path`); an empty one if there is no file."""
    path = Path(path) if path is not None else gazetteer_path(units_path)
    text = read_gazetteer_text(path)
    return GazetteerFile() if text is None else parse_gazetteer(text, units, str(path))


def add_place(path: str | Path, units: UnitDirectory, place: dict) -> int:
    """Append `place` (name, kind, station, learned_from) to the `places:` of the gazetteer file at `path`, keeping
    the rest of the file as it is; the new text is validated before it replaces the file. Returns the entry's line.
    Raises settings.ConfigError (naming the file and line) if the file, with the entry, would not be valid."""
    path = Path(path)
    text = read_gazetteer_text(path) or ""
    if text and not text.endswith("\n"):
        text += "\n"
    lines = text.splitlines(keepends=True)
    head = next((i for i, line in enumerate(lines) if _PLACES.match(line)), None)
    if head is None:
        lines += (["\n"] if lines else []) + ["places:\n"]
        head = len(lines) - 1
    elif "[]" in lines[head]:
        lines[head] = "places:\n"
    end = next((i for i in range(head + 1, len(lines)) if _TOP_LEVEL.match(lines[i])), len(lines))
    while end > head + 1 and not lines[end - 1].strip():
        end -= 1
    items = [line for line in lines[head + 1:end] if line.lstrip().startswith("- ")]
    indent = (len(items[0]) - len(items[0].lstrip())) if items else 2
    pad = " " * indent
    entry = [f"{pad}- name: {_scalar(place['name'])}\n", f"{pad}  kind: {place['kind']}\n",
             f"{pad}  station: {place['station']}\n"]
    if place.get("learned_from"):
        entry.append(f"{pad}  learned_from: [{', '.join(_scalar(n) for n in place['learned_from'])}]\n")
    new_lines = lines[:end] + entry + lines[end:]
    new_text = "".join(new_lines)
    parsed = parse_gazetteer(new_text, units, str(path))
    if not any(p.name == place["name"] and p.station == place["station"] for p in parsed.places):
        raise ValueError(f"{path}: the entry for {place['name']} did not land under `places:`; add it by hand")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(new_text, encoding="utf-8")
    os.replace(tmp, path)
    return end + 1


_PLACES = re.compile(r"^places:\s*(\[\s*\])?\s*(#.*)?$")
_TOP_LEVEL = re.compile(r"^[^\s#-]")
_PLAIN = re.compile(r"^[\w\u4e00-\u9fff-]+$")


def _scalar(value: str) -> str:
    """`value` as a YAML scalar: plain when it is only letters, digits and Chinese characters, else quoted."""
    return value if _PLAIN.match(value) and not value[0].isdigit() else json.dumps(value, ensure_ascii=False)
