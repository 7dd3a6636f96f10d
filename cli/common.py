"""What every `onequeue` subcommand shares: its context, how it registers, how it prints and how it fails.

Kept apart from cli/main.py so a command module imports these without importing the whole command line.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Optional

from tickets.vocabulary import CHINA_TZ  # the regulator works in China Standard Time: every time shown is in it


class Context:
    """What a command needs, built lazily: the configuration, the database, the units directory."""

    def __init__(self, config_path: Optional[str]):
        from settings.config_schema import load_config

        self.config = load_config(config_path)
        self._db = None
        self._units = None

    @property
    def db(self):
        if self._db is None:
            from notify.complainant import from_config, keep_in_loop
            from tickets import Database
            from tickets.migrate import upgrade

            self._db = Database(self.config.resolved_database_url())
            keep_in_loop(self._db, from_config(self.config))  # a step taken here texts complainants too
            upgrade(self._db.engine)
        return self._db

    @property
    def units(self):
        if self._units is None:
            from dispatch import UnitDirectory

            self._units = UnitDirectory.from_file(self.config.path(self.config.units_file))
        return self._units

    def unit_name(self, unit_id: Optional[str]) -> str:
        unit = self.units.get(unit_id) if unit_id else None
        return unit.name if unit else (unit_id or "")


Command = Callable[[Context, argparse.Namespace], int]


class Commands:
    """Where a module adds its subcommands. Every parser made here takes --config before or after its name;
    a group (`tickets`, `sms`, ...) is found again by name, so a later module can add to it."""

    def __init__(self, action, common: argparse.ArgumentParser, groups: dict[str, "Commands"], path: str = ""):
        self._action, self._common, self._groups, self._path = action, common, groups, path

    def add_parser(self, name: str, **kw) -> argparse.ArgumentParser:
        """A subcommand; give it `set_defaults(func=...)`, a function of (ctx, args) returning the exit status."""
        return self._action.add_parser(name, parents=[self._common], **kw)

    def add_group(self, name: str, **kw) -> "Commands":
        """A subcommand that has subcommands of its own, e.g. `onequeue sms list`."""
        path = f"{self._path} {name}".strip()
        parser = self.add_parser(name, **kw)
        group = Commands(parser.add_subparsers(dest=path.replace(" ", "_") + "_cmd", required=True),
                         self._common, self._groups, path)
        self._groups[path] = group
        return group

    def group(self, path: str) -> "Commands":
        """A group added before, by its words on the command line (e.g. "tickets")."""
        try:
            return self._groups[path]
        except KeyError:
            raise LookupError(f"no command group {path!r} (registered: {', '.join(self._groups)})") from None


def china_time(moment: Optional[datetime], with_seconds: bool = True) -> str:
    """`moment` as a person reads it: China Standard Time, e.g. 2026-11-03 14:05:09; "-" for none."""
    if moment is None:
        return "-"
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def _json_default(value: Any):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def print_json(data: Any) -> None:
    """--json output: times stay ISO 8601 with their offset."""
    print(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


def json_text(data: Any) -> str:
    """One line of JSON for text output (a history detail)."""
    return json.dumps(data, ensure_ascii=False, default=_json_default)


def fail(message: str, code: int = 1) -> int:
    """Say what went wrong on stderr; the exit status to return."""
    print(message, file=sys.stderr)
    return code


def each_ticket(ctx: Context, numbers: list[str], action: Callable[[Any, Any], Any],
                errors: tuple[type[Exception], ...] = ()) -> int:
    """Apply `action(session, ticket)` to each ticket in its own transaction and print what it says (a text),
    else the ticket's status; report every failure on stderr, succeed only if all did."""
    from tickets import TransitionError, store

    failed = 0
    for number in numbers:
        try:
            with ctx.db.transaction() as s:
                ticket = store.get_by_number(s, number, for_update=True)
                answer = action(s, ticket)
                print(f"{number}: {answer if isinstance(answer, str) else ticket.status}")
        except (TransitionError, store.TicketNotFound, ValueError, *errors) as exc:
            failed += 1
            print(f"{number}: {exc}", file=sys.stderr)
    return 1 if failed else 0
