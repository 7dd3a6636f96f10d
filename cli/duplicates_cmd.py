"""`onequeue tickets unlink`: staff undo a duplicate link, and the ticket is dispatched on its own."""
from __future__ import annotations

import argparse


def cmd_unlink(ctx, args) -> int:
    from cli.main import _each_ticket
    from tickets import duplicates

    return _each_ticket(ctx, args.numbers, lambda s, t: duplicates.unlink(s, t, args.actor))


def register(sub) -> None:
    from cli.main import _Sub

    tickets = sub.action.choices["tickets"]
    group = next(a for a in tickets._actions if isinstance(a, argparse._SubParsersAction))
    unlink = _Sub(group, sub.common).add_parser(
        "unlink", help="not the same matter after all: a duplicate becomes new and is dispatched on its own")
    unlink.add_argument("numbers", nargs="+", metavar="NUMBER")
    unlink.add_argument("--actor", default="staff:cli", help="who does it, for the history")
    unlink.set_defaults(func=cmd_unlink)
