"""gazetteer.yaml beside units.yaml: read and validated with units.yaml's stations, or absent (no extra places)."""
from __future__ import annotations

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
