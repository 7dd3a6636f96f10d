"""`onequeue sms templates|list|inbound`: what each SMS template costs in segments, the messages sent with
their delivery status, and the replies received from staff. Phones are shown masked."""
from __future__ import annotations

import string
import sys
from typing import Any, Iterator

# Values a template is rendered with to count its characters: typical, with the longest title a ticket gives.
SAMPLE_VALUES = {
    "number": "SD2611-00001", "kind": "投诉", "title": "在华盖路步行街某奶茶店购买饮品后腹泻，要求商家退款并赔偿医疗费用"[:30],
    "place": "大良街道升平社区华盖路步行街12号", "business": "顺德区大良某某餐饮店", "contact_name": "李子健",
    "action": "受理", "reason": "当前状态为已办结",
}


def register(sub) -> None:
    sms = sub.add_parser("sms", help="SMS templates, messages sent and replies received").add_subparsers(
        dest="sms_cmd", required=True)

    templates = sms.add_parser("templates", help="each configured template with its characters and segments")
    templates.add_argument("--json", action="store_true")
    templates.set_defaults(func=cmd_sms_templates)

    ls = sms.add_parser("list", help="messages sent, newest first, with delivery status")
    ls.add_argument("--ticket", metavar="NUMBER", help="only the messages about this ticket")
    ls.add_argument("--status", help="pending, sending, sent, delivered, undelivered or failed")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_sms_list)

    inbound = sms.add_parser("inbound", help="SMS received from staff, newest first, with what each did")
    inbound.add_argument("--ticket", metavar="NUMBER")
    inbound.add_argument("--limit", type=int, default=50)
    inbound.add_argument("--json", action="store_true")
    inbound.set_defaults(func=cmd_sms_inbound)


def _templates(model, prefix: str = "") -> Iterator[tuple[str, str]]:
    for name, value in (model.model_dump() if hasattr(model, "model_dump") else model).items():
        if isinstance(value, str):
            yield prefix + name, value
        elif isinstance(value, dict):
            yield from _templates(value, f"{prefix}{name}.")


class _Sample(dict):
    def __missing__(self, key: str) -> str:  # a field this command has no sample for counts as written
        return "{" + key + "}"


def cmd_sms_templates(ctx, args) -> int:
    from cli.main import _print_json
    from notify.templates import segments, template_fields

    rows: list[dict[str, Any]] = []
    for name, template in _templates(ctx.config.sms.templates):
        example = string.Formatter().vformat(template, (), _Sample(SAMPLE_VALUES)) if template else ""
        rows.append({"name": name, "template": template, "example": example, "chars": len(example),
                     "segments": segments(example) if example else 0, "fields": sorted(template_fields(template))})
    if args.json:
        _print_json(rows)
        return 0
    width = max((len(r["name"]) for r in rows), default=8)
    for r in rows:
        if not r["template"]:
            print(f"{r['name']:<{width}}  (empty: not sent)")
            continue
        print(f"{r['name']:<{width}}  {r['chars']:>4} chars  {r['segments']} segment{'s' if r['segments'] != 1 else ''}"
              f"{'  (billed per segment)' if r['segments'] > 1 else ''}")
        print(f"{'':<{width}}  {r['example']}")
    print("counted with sample values; a longer title or place costs more (70 characters in one segment, 67 "
          "in each of several)")
    return 0


def cmd_sms_list(ctx, args) -> int:
    from sqlalchemy import select

    from cli.main import _print_json
    from notify.models import SmsMessage
    from settings.masking import mask_phone, mask_text
    from tickets import store
    from tickets.models import Ticket

    with ctx.db.transaction() as s:
        stmt = (select(SmsMessage, Ticket.number).outerjoin(Ticket, Ticket.id == SmsMessage.ticket_id)
                .order_by(SmsMessage.id.desc()).limit(args.limit))
        if args.ticket:
            try:
                stmt = stmt.where(SmsMessage.ticket_id == store.get_by_number(s, args.ticket).id)
            except store.TicketNotFound as exc:
                print(exc, file=sys.stderr)
                return 1
        if args.status:
            stmt = stmt.where(SmsMessage.status == args.status)
        rows = [{"id": m.id, "ticket": number, "unit": m.unit_id, "purpose": m.purpose, "to": mask_phone(m.to_phone),
                 "status": m.status, "attempts": m.attempts, "segments": m.segments, "error_code": m.error_code,
                 "last_error": mask_text(m.last_error) if m.last_error else None, "created_at": m.created_at,
                 "sent_at": m.sent_at, "delivered_at": m.delivered_at, "body": m.body} for m, number in s.execute(stmt)]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no messages match")
        return 0
    for r in rows:
        problem = f" {r['last_error'] or r['error_code'] or ''}".rstrip() if r["status"] != "delivered" else ""
        print(f"{r['id']:>6} {r['ticket'] or '-':<14} {r['purpose']:<10} {r['to']:<16} {r['status']:<11} "
              f"{r['attempts']}{problem}")
    return 0


def cmd_sms_inbound(ctx, args) -> int:
    from sqlalchemy import select

    from cli.main import _print_json
    from notify.models import SmsInbound
    from settings.masking import mask_phone
    from tickets import store
    from tickets.models import Ticket

    with ctx.db.transaction() as s:
        stmt = (select(SmsInbound, Ticket.number).outerjoin(Ticket, Ticket.id == SmsInbound.ticket_id)
                .order_by(SmsInbound.id.desc()).limit(args.limit))
        if args.ticket:
            try:
                stmt = stmt.where(SmsInbound.ticket_id == store.get_by_number(s, args.ticket).id)
            except store.TicketNotFound as exc:
                print(exc, file=sys.stderr)
                return 1
        rows = [{"id": i.id, "received_at": i.received_at, "from": mask_phone(i.from_phone), "outcome": i.outcome,
                 "ticket": number, "unit": i.unit_id, "body": i.body, "note": i.note} for i, number in s.execute(stmt)]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no SMS received")
        return 0
    for r in rows:
        print(f"{r['id']:>6} {r['received_at']:%Y-%m-%d %H:%M:%S} {r['from']:<16} {r['outcome']:<14} "
              f"{r['ticket'] or '-':<14} {r['body'][:40]}")
    return 0


def print_sms_health(data: dict) -> None:
    """The SMS lines of `onequeue health`: undeliverable messages to units, and replies by outcome."""
    line = f"sms undeliverable: {data['undeliverable']}"
    recent = data["recent_undeliverable"][:3]
    if recent:
        line += " (latest: " + "; ".join(
            f"{r['ticket'] or '-'} {r['unit']} {r['to']} {r['error_code'] or r['status']}" for r in recent) + ")"
    print(line)
    if data["inbound"]:
        print("sms replies:", ", ".join(f"{k} {v}" for k, v in sorted(data["inbound"].items())))
