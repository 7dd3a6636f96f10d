"""`onequeue sms templates|list|inbound`: what each SMS template costs in segments, the messages sent with
their delivery status, and the replies received from staff. Phones are shown masked."""
from __future__ import annotations

import string
from typing import Any, Iterator

from cli.common import Commands, china_time, fail, print_json

# Values a template is rendered with to count its characters: typical, with the longest title a ticket gives.
SAMPLE_VALUES = {
    "number": "SD2611-00001", "kind": "投诉", "title": "在华盖路步行街某奶茶店购买饮品后腹泻，要求商家退款并赔偿医疗费用"[:30],
    "place": "大良街道升平社区华盖路步行街12号", "business": "顺德区大良某某餐饮店", "contact_name": "李子健",
    "action": "受理", "reason": "当前状态为已办结", "unit": "大良升平消费维权服务站",
    "result": "经调解，商家同意全额退款，消费者表示满意。",
}


def register(sub: Commands) -> None:
    sms = sub.add_group("sms", help="SMS templates, messages sent and replies received")

    templates = sms.add_parser("templates", help="each configured template with its characters and segments")
    templates.add_argument("--json", action="store_true")
    templates.set_defaults(func=cmd_sms_templates)

    ls = sms.add_parser("list", help="messages sent, newest first, with delivery status")
    ls.add_argument("--ticket", metavar="NUMBER", help="only the messages about this ticket")
    ls.add_argument("--status", help="pending, sending, sent, delivered, undelivered, failed or cancelled (TD)")
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
    from notify.templates import segments, template_fields

    from notify.complainant import sample_link as progress_link
    from notify.links import sample_link

    rows: list[dict[str, Any]] = []
    samples = _Sample({**SAMPLE_VALUES, "link": sample_link(ctx.config)})
    progress = _Sample({**SAMPLE_VALUES, "link": progress_link(ctx.config)})  # the complainant's page
    templates = [(name, t, samples) for name, t in _templates(ctx.config.sms.templates)]
    templates += [(name, t, progress) for name, t in _templates(ctx.config.complainant.templates, "complainant.")]
    for name, template, values in templates:
        example = string.Formatter().vformat(template, (), values) if template else ""
        rows.append({"name": name, "template": template, "example": example, "chars": len(example),
                     "segments": segments(example) if example else 0, "fields": sorted(template_fields(template))})
    if args.json:
        print_json(rows)
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


def _ticket_id(s, number):
    """The id of the ticket numbered `number` (TicketNotFound if none); None when no number is given."""
    from tickets import store

    return store.get_by_number(s, number).id if number else None


def cmd_sms_list(ctx, args) -> int:
    from notify.links import without_token
    from notify.queries import list_sent
    from settings.masking import mask_phone, mask_text
    from tickets import store

    with ctx.db.transaction() as s:
        try:
            sent = list_sent(s, ticket_id=_ticket_id(s, args.ticket), status=args.status, limit=args.limit)
        except store.TicketNotFound as exc:
            return fail(str(exc))
        rows = [{"id": r.message.id, "ticket": r.ticket_number, "unit": r.message.unit_id,
                 "purpose": r.message.purpose, "to": mask_phone(r.message.to_phone), "status": r.message.status,
                 "attempts": r.message.attempts, "segments": r.message.segments, "error_code": r.message.error_code,
                 "last_error": mask_text(r.message.last_error) if r.message.last_error else None,
                 "created_at": r.message.created_at, "sent_at": r.message.sent_at,
                 "delivered_at": r.message.delivered_at, "body": without_token(r.message.body)} for r in sent]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no messages match")
        return 0
    for r in rows:
        problem = f" {r['last_error'] or r['error_code'] or ''}".rstrip() if r["status"] != "delivered" else ""
        print(f"{r['id']:>6} {china_time(r['created_at'])} {r['ticket'] or '-':<14} {r['purpose']:<10} "
              f"{r['to']:<16} {r['status']:<11} {r['attempts']}{problem}")
    return 0


def cmd_sms_inbound(ctx, args) -> int:
    from notify.queries import list_received
    from settings.masking import mask_phone
    from tickets import store

    with ctx.db.transaction() as s:
        try:
            received = list_received(s, ticket_id=_ticket_id(s, args.ticket), limit=args.limit)
        except store.TicketNotFound as exc:
            return fail(str(exc))
        rows = [{"id": r.message.id, "received_at": r.message.received_at, "from": mask_phone(r.message.from_phone),
                 "outcome": r.message.outcome, "ticket": r.ticket_number, "unit": r.message.unit_id,
                 "body": r.message.body, "note": r.message.note} for r in received]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no SMS received")
        return 0
    for r in rows:
        print(f"{r['id']:>6} {china_time(r['received_at'])} {r['from']:<16} {r['outcome']:<14} "
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
