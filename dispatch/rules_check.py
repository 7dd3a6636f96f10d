"""`rules check`: every error in a rules file (and the units file it names) with file, line and field, and
warnings for rules that can never match or are never reached."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from settings import ConfigError, parse_yaml_model
from settings.yaml_loader import ConfigProblem, format_loc, read_yaml_text, yaml_lines

from dispatch.classify import load_default_taxonomy
from dispatch.directory import UnitDirectory
from dispatch.engine import Dispatcher
from dispatch.gazetteer_file import gazetteer_path, read_gazetteer_text
from dispatch.reach import ReachAnalysis
from dispatch.rules_schema import RulesFile


@dataclass
class CheckReport:
    rules_file: str
    units_file: str
    errors: list[ConfigProblem] = field(default_factory=list)
    warnings: list[ConfigProblem] = field(default_factory=list)
    rule_count: int = 0
    dispatcher: Optional[Dispatcher] = field(default=None, repr=False)   # built when the files are valid

    @property
    def ok(self) -> bool:
        return not self.errors


def check_files(rules_path: str | Path, units_path: str | Path,
                channels: Optional[Iterable[str]] = None) -> CheckReport:
    """Validate `rules_path` against `units_path`; `channels` (configured channel names) adds their warnings."""
    try:
        text = read_yaml_text(rules_path)
    except ConfigError as exc:
        report = CheckReport(str(rules_path), str(units_path))
        report.errors += _units(units_path)[1]
        report.errors += exc.problems
        return report
    return check_text(text, units_path, channels, file=str(rules_path))


def check_text(text: str, units_path: str | Path, channels: Optional[Iterable[str]] = None,
               file: str = "rules.yaml") -> CheckReport:
    """Validate rules given as text (pasted on a page), named `file` in the errors, against `units_path` (and the
    gazetteer.yaml beside it, so that a replay places tickets as the running workers do)."""
    report = CheckReport(file, str(units_path))
    units, problems = _units(units_path)
    report.errors += problems
    try:
        if units is None:   # the rules can still be checked on their own
            rules = parse_yaml_model(text, RulesFile, file=file, context={"taxonomy": load_default_taxonomy()})
        else:
            places = gazetteer_path(units_path)   # what the running workers read beside units.yaml, read here too
            report.dispatcher = Dispatcher.from_yaml(units, text, file=file, gazetteer_text=read_gazetteer_text(places),
                                                     gazetteer_file=str(places))
            rules = report.dispatcher.rules_file
    except ConfigError as exc:
        report.errors += exc.problems
        return report
    report.rule_count = len(rules.rules)
    if units is not None:
        report.warnings = _warnings(rules, units, text, file, channels)
    return report


def _units(units_path: str | Path) -> tuple[Optional[UnitDirectory], list[ConfigProblem]]:
    try:
        return UnitDirectory.from_file(units_path), []
    except ConfigError as exc:
        return None, list(exc.problems)


def _warnings(rules: RulesFile, units: UnitDirectory, text: str, file: str,
              channels: Optional[Iterable[str]]) -> list[ConfigProblem]:
    lines = yaml_lines(text)
    found: list[tuple[tuple, str]] = []
    for finding in ReachAnalysis(units).findings(rules.rules):
        found.append((("rules", finding.index) + finding.loc, finding.message))
    known = sorted(channels or ())
    for i, rule in enumerate(rules.rules):
        for path, cond in rule.when.walk(("rules", i, "when")):
            for name in cond.channel or []:
                if known and name not in known:
                    found.append((path + ("channel",), f"no channel named {name!r} is configured "
                                                      f"(channels: {', '.join(known)})"))
        unit = units.get(rule.assign) if rule.assign else None
        if unit is not None and not unit.contacts:
            found.append((("rules", i, "assign"), f"unit {unit.id!r} has no contacts: a dispatch to it texts nobody"))
    found.sort(key=lambda f: (f[0][1], lines.line_for(f[0]) or 0))
    return [ConfigProblem(file, lines.line_for(loc), format_loc(loc), message) for loc, message in found]


def rule_lines(path: str | Path, rules: RulesFile) -> dict[str, int]:
    """The line of each rule in `path`, by rule id (for explanations)."""
    try:
        lines = yaml_lines(Path(path).read_text(encoding="utf-8"))
    except OSError:
        return {}
    return {rule.id: lines.line_for(("rules", i)) for i, rule in enumerate(rules.rules)}
