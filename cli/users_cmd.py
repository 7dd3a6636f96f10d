"""`onequeue users add|list|disable|password`: administrators keep the back office's accounts."""
from __future__ import annotations

import getpass
import json
import sys


def _read_password(args) -> str | None:
    """The password from one line of stdin (--password-stdin), else asked twice on the terminal."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        print("no terminal to ask the password on: give --password-stdin and pipe it in", file=sys.stderr)
        return None
    first = getpass.getpass("new password: ")
    if first != getpass.getpass("again: "):
        print("the two passwords differ; nothing changed", file=sys.stderr)
        return None
    return first


def _change(ctx, action) -> int:
    from accounts import AccountError

    try:
        with ctx.db.transaction() as s:
            message = action(s)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0


def cmd_add(ctx, args) -> int:
    from accounts import add_user

    password = _read_password(args)
    if password is None:
        return 2
    return _change(ctx, lambda s: (
        f"added {add_user(s, args.login, args.name, args.unit, args.role, password, ctx.units).login} "
        f"({args.role}, {ctx.unit_name(args.unit)})"))


def cmd_list(ctx, args) -> int:
    from accounts import list_users

    with ctx.db.transaction() as s:
        rows = [{"login": u.login, "name": u.name, "unit": u.unit_id, "unit_name": ctx.unit_name(u.unit_id),
                 "role": u.role, "disabled": u.disabled, "created_at": u.created_at.isoformat()}
                for u in list_users(s)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no users yet: add one with `onequeue users add`")
    for r in rows:
        print(f"{r['login']:<20} {r['role']:<6} {'disabled' if r['disabled'] else 'active':<9} "
              f"{r['unit']:<20} {r['name']}")
    return 0


def cmd_disable(ctx, args) -> int:
    from accounts import disable_user

    return _change(ctx, lambda s: f"disabled {disable_user(s, args.login).login}; its sessions have ended")


def cmd_password(ctx, args) -> int:
    from accounts import set_password

    password = _read_password(args)
    if password is None:
        return 2
    return _change(ctx, lambda s: f"new password set for {set_password(s, args.login, password).login}; "
                                  f"its sessions have ended")


def register(sub) -> None:
    from accounts import ROLES

    users = sub.add_group("users", help="accounts of the back office")
    add = users.add_parser("add", help="add an account of a unit of units.yaml")
    add.add_argument("login")
    add.add_argument("--name", required=True, help="the person's name, shown on pages and in histories")
    add.add_argument("--unit", required=True, help="the id of the person's unit in units.yaml")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    add.set_defaults(func=cmd_add)
    ls = users.add_parser("list", help="every account")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    dis = users.add_parser("disable", help="disable an account; its sessions end at once")
    dis.add_argument("login")
    dis.set_defaults(func=cmd_disable)
    pw = users.add_parser("password", help="set a new password; the account's sessions end")
    pw.add_argument("login")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    pw.set_defaults(func=cmd_password)
