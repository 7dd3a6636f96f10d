"""Walk-in visits: complaints staff take at a service station's counter, typed in or imported from the
station's visit register (.xlsx). The ticket keeps the station, so dispatch sends it back there."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Optional

from pydantic import Field, ValidationError

from connectors.base import Connector, ConnectorConfig, WriteBackRequest, WriteBackResult
from tickets.schema import IncomingTicket
from tickets.vocabulary import CHINA_TZ as CST, KIND_OF_LABEL

KINDS = KIND_OF_LABEL
PHONE = re.compile(r"^(\+?86)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")

# Register columns as stations name them; the first name is the one the template uses.
COLUMNS: dict[str, tuple[str, ...]] = {
    "ref": ("登记编号", "编号", "来访编号"),
    "date": ("来访日期", "日期", "登记日期"),
    "time": ("来访时间", "时间"),
    "name": ("姓名", "来访人", "投诉人", "来访人姓名"),
    "phone": ("联系电话", "电话", "手机", "手机号码"),
    "kind": ("类型", "诉求类型"),
    "business": ("被投诉方", "投诉对象", "商家名称", "经营者"),
    "address": ("地址", "事发地址", "商家地址"),
    "text": ("诉求内容", "内容", "投诉内容", "事由"),
    "amount": ("涉及金额", "金额", "金额（元）", "金额(元)"),
    "receptionist": ("接待人", "接待人员"),
}
REQUIRED = ("date", "phone", "text")
# The ticket's amount column holds 14 digits, 2 of them after the point.
MAX_AMOUNT = Decimal(10) ** 12


class Settings(ConnectorConfig):
    max_rows: int = Field(5000, ge=1, le=100000, description="a register with more rows is refused")


@dataclass
class Visit:
    """One visitor's complaint as staff record it."""

    station: str
    name: Optional[str]
    phone: str
    text: str
    kind: str = "complaint"
    business: Optional[str] = None
    address: Optional[str] = None
    amount: Optional[Decimal] = None
    received_at: Optional[datetime] = None
    receptionist: Optional[str] = None


@dataclass
class RowError:
    row: int
    reason: str


def title_of(text: str, business: Optional[str]) -> str:
    """A short title for lists and SMS: the first sentence of the complaint, at most 30 characters."""
    first = re.split(r"[。！？!?\n]", text.strip(), maxsplit=1)[0]
    title = first if len(first) <= 30 else first[:29] + "…"
    return title or (f"来访投诉：{business}" if business else "来访投诉")


def check_phone(value: str) -> str:
    phone = re.sub(r"[\s]", "", value or "")
    if not PHONE.match(phone):
        raise ValueError(f"联系电话 {value!r} is not a phone number (11-digit mobile or 0757-xxxxxxxx)")
    return phone


def visit_ticket(visit: Visit, source_ref: Optional[str] = None, payload: Optional[dict] = None) -> IncomingTicket:
    """A visit as a ticket; a visit typed in at the counter gets a new source reference."""
    if not visit.text.strip():
        raise ValueError("诉求内容 (the complaint) is empty")
    phone = check_phone(visit.phone)
    at = visit.received_at or datetime.now(CST).replace(microsecond=0)
    ref = source_ref or f"{visit.station}:{at.astimezone(CST):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    return IncomingTicket(
        source_ref=ref, source_updated_at=at, received_at=at, kind=visit.kind, title=title_of(visit.text, visit.business),
        text=visit.text.strip(), complainant_name=visit.name or None, complainant_phone=phone,
        business_name=visit.business or None, event_address=visit.address or None, amount=visit.amount,
        source_status="来访登记", intake_station=visit.station,
        payload=payload if payload is not None else {
            "station": visit.station, "name": visit.name, "phone": phone, "text": visit.text, "kind": visit.kind,
            "business": visit.business, "address": visit.address,
            "amount": str(visit.amount) if visit.amount is not None else None,
            "received_at": at.isoformat(), "receptionist": visit.receptionist,
        },
    )


# --- the station's visit register ---------------------------------------------------------------

def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value)
    m = re.match(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not m:
        raise ValueError(f"来访日期 {text!r} is not a date (2026-11-20 or 2026年11月20日)")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError(f"来访日期 {text!r} is not a date") from None


def _parse_time(value: Any, day_value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, datetime):
        return value.time()
    if isinstance(day_value, datetime) and not value and day_value.time() != time(0):
        return day_value.time()
    text = _cell_text(value)
    if not text:
        return time(9, 0)  # the register gave only the day: morning opening
    m = re.match(r"^(\d{1,2})\s*[:：时点]\s*(\d{1,2})", text)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ValueError(f"来访时间 {text!r} is not a time (14:30)")
    return time(int(m[1]), int(m[2]))


def parse_amount(value: Any) -> Optional[Decimal]:
    """An amount in yuan as staff write it (1,200, 35.5元, ￥80), to the fen; None when empty; ValueError for
    what is not an amount a ticket can hold (NaN, infinity, negative, 10^12 or more)."""
    text = _cell_text(value).replace(",", "").replace("元", "").replace("¥", "").replace("￥", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"涉及金额 {_cell_text(value)!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"涉及金额 {_cell_text(value)!r} is not an amount")
    if amount < 0:
        raise ValueError(f"涉及金额 {text} is negative")
    if amount >= MAX_AMOUNT:
        raise ValueError(f"涉及金额 {text} is not below {MAX_AMOUNT:,} yuan")
    return amount.quantize(Decimal("0.01"))


def _find_header(rows: list[tuple], max_scan: int = 10) -> tuple[int, dict[str, int]]:
    """The row that names the columns (a title row may come first) and where each field is."""
    for index, row in enumerate(rows[:max_scan]):
        names = [_cell_text(c) for c in row]
        found = {}
        for field, aliases in COLUMNS.items():
            for i, name in enumerate(names):
                if name in aliases:
                    found[field] = i
                    break
        if all(f in found for f in REQUIRED):
            return index, found
    wanted = ", ".join(COLUMNS[f][0] for f in REQUIRED)
    raise ValueError(f"no header row with the columns {wanted} in the first {max_scan} rows")


def row_ref(station: str, cells: dict[str, Any], day: date, phone: str, text: str) -> str:
    """Stable per visit: the register's own number if it has one, else the visit's content."""
    own = _cell_text(cells.get("ref"))
    if own:
        return f"{station}:{own}"[:128]
    digest = hashlib.sha256(f"{day.isoformat()}|{phone}|{' '.join(text.split())}".encode("utf-8")).hexdigest()
    return f"{station}:{digest[:20]}"


def read_register(path: str | Path, station: str, max_rows: int = 5000) -> tuple[list[IncomingTicket], list[RowError]]:
    """Visits of a station's register: good rows as tickets, each bad row with its spreadsheet row number."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True, max_row=max_rows + 11))
    finally:
        book.close()
    header_index, columns = _find_header(rows)
    body = rows[header_index + 1:]
    if len(body) > max_rows:
        raise ValueError(f"the register has more than {max_rows} rows; split it or raise max_rows")
    records: list[IncomingTicket] = []
    errors: list[RowError] = []
    for offset, row in enumerate(body):
        number = header_index + 2 + offset  # spreadsheet rows count from 1, below the header
        cells = {field: row[i] if i < len(row) else None for field, i in columns.items()}
        if not any(_cell_text(v) for v in cells.values()):
            continue
        try:
            records.append(_row_ticket(station, cells, Path(path).name, number))
        except (ValueError, ArithmeticError, ValidationError) as exc:  # that row's error, not the register's
            errors.append(RowError(number, _reason(exc)))
    return records, errors


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


def _row_ticket(station: str, cells: dict[str, Any], file_name: str, row: int) -> IncomingTicket:
    text = _cell_text(cells.get("text"))
    if not text:
        raise ValueError("诉求内容 is empty")
    phone = check_phone(_cell_text(cells.get("phone")))
    day = _parse_date(cells.get("date"))
    at = datetime.combine(day, _parse_time(cells.get("time"), cells.get("date")), CST)
    kind_text = _cell_text(cells.get("kind")) or "投诉"
    if kind_text not in KINDS:
        raise ValueError(f"类型 {kind_text!r} is not one of {', '.join(KINDS)}")
    visit = Visit(
        station=station, name=_cell_text(cells.get("name")) or None, phone=phone, text=text, kind=KINDS[kind_text],
        business=_cell_text(cells.get("business")) or None, address=_cell_text(cells.get("address")) or None,
        amount=parse_amount(cells.get("amount")), received_at=at,
        receptionist=_cell_text(cells.get("receptionist")) or None,
    )
    payload = {COLUMNS[f][0]: _cell_text(v) for f, v in cells.items()} | {"file": file_name, "row": row,
                                                                          "station": station}
    return visit_ticket(visit, row_ref(station, cells, day, phone, text), payload)


def walk_in_channel(channels, name: Optional[str] = None) -> str:
    """The walk-in channel visits are stored into: the one named, or the only enabled one configured."""
    walk_ins = [ch for ch in channels if ch.kind == "walk_in" and ch.enabled]
    if name:
        if not any(ch.name == name for ch in walk_ins):
            raise LookupError(f"no enabled walk_in channel named {name!r} in the configuration")
        return name
    if not walk_ins:
        raise LookupError("no channel of kind walk_in in the configuration: add one to config.yaml "
                          "(see the README, 'Channel kinds')")
    if len(walk_ins) > 1:
        raise LookupError("several walk_in channels are configured: say which with --channel "
                          + ", ".join(ch.name for ch in walk_ins))
    return walk_ins[0].name


def register_max_rows(channels, name: str) -> int:
    """How many rows a register of this walk-in channel may have (its `max_rows` setting)."""
    settings = next(ch.settings for ch in channels if ch.name == name)
    return Settings.model_validate(settings).max_rows


class WalkInConnector(Connector):
    """Nothing to pull (staff register visits) and no system to write to: the station tells the visitor."""

    kind = "walk_in"
    Config = Settings

    @classmethod
    def answers_complainant(cls, payload) -> bool:
        return False  # the visitor went home: only an SMS tells them what became of it

    def write_back(self, request: WriteBackRequest) -> WriteBackResult:
        return WriteBackResult("done", "walk-in: the station answers the visitor in person or by phone")
