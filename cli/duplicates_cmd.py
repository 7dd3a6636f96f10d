"""`onequeue tickets unlink`: staff undo a duplicate link, and the ticket is dispatched on its own."""
from __future__ import annotations

from cli.common import Commands, each_ticket


def cmd_unlink(ctx, args) -> int:
    from tickets import duplicates

    return each_ticket(ctx, args.numbers, lambda s, t: duplicates.unlink(s, t, args.actor))


def register(sub: Commands) -> None:
    unlink = sub.group("tickets").add_parser(
        "unlink", help="not the same matter after all: a duplicate becomes new and is dispatched on its own")
    unlink.add_argument("numbers", nargs="+", metavar="NUMBER")
    unlink.add_argument("--actor", default="staff:cli", help="who does it, for the history")
    unlink.set_defaults(func=cmd_unlink)
