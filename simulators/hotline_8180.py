"""A working stand-in of the 8180 hotline's file exchange (../shared/specs/8180-file-drop.md): it exports the
calls it takes as GB18030 CSV files into an inbox folder and reads result files from an outbox folder."""
from __future__ import annotations

import copy
import csv
import io
import os
import random
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

from simulators.order_factory import OrderFactory, load_places
from simulators.workorders_12345 import SHANGHAI

HEADER = ["受理编号", "来电时间", "来电人", "联系电话", "被投诉单位", "事发地址", "诉求类别", "诉求内容"]
RESULT_HEADER = ["受理编号", "处理状态", "处理结果", "承办单位", "办结时间"]
RESULT_STATUSES = ("已受理", "已办结", "已退回")
ENCODING = "gb18030"
KINDS = {"投诉": "投诉", "举报": "举报", "咨询": "咨询", "求助": "投诉", "建议": "咨询"}
# What callers add when they ring again; commas, quotes and line breaks that a CSV writer must quote.
_ADDENDA = [
    '\r\n补充：来电人再次来电称，商家说"再等等"，但已等了两周, 仍无答复。',
    '\r\n（来电人情绪激动，称"如再不处理将向媒体反映"）',
    "\r\n附：商家电话 0757-2222xxxx, 无人接听；\r\n门店已贴出“转让”告示。",
]


class Hotline8180:
    """The 8180 hotline's exporter and result reader, working on two folders (no HTTP: the hotline has no API).

    `add_calls(n)` takes new calls and exports them in a new file; `update_call` and `reexport` make earlier
    rows come again; `export(malformed=k)` mixes in broken rows; `write_partial()` leaves a `.part` file the
    way an export in progress looks; `write_cut()` a file cut short under its final name (`finish_cut()` completes
    it); `drop_unreadable()` writes a file that is not an 8180 export at all.
    `collect_results()` reads and deletes the result files, applying each record once (`effects`).
    """

    def __init__(self, inbox: str | os.PathLike, outbox: str | os.PathLike, *, seed: int | None = None,
                 clock: Callable[[], datetime] | None = None):
        self.inbox = Path(inbox)
        self.outbox = Path(outbox)
        self.clock = clock or (lambda: datetime.now(SHANGHAI))
        self._rng = random.Random(seed)
        self._places = load_places()
        self._lock = threading.RLock()
        self._calls: dict[str, dict[str, str]] = {}
        self._pending: list[str] = []  # keys to go into the next export, in order
        self._exported: list[str] = []
        self._applied: set[tuple[str, str]] = set()
        self._effects: list[dict] = []
        self.unknown_results: list[dict] = []
        self.files_written: list[Path] = []
        self._seq = 416
        self._last_name_time: datetime | None = None
        self._partial: tuple[Path, bytes] | None = None
        self._cut: tuple[Path, bytes] | None = None
        self._thread: tuple[threading.Thread, threading.Event] | None = None

    # -- life cycle (the same shape as the HTTP stand-ins) ------------------------------------

    def start(self) -> "Hotline8180":
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.outbox.mkdir(parents=True, exist_ok=True)
        return self

    def stop(self) -> None:
        if self._thread:
            thread, stopped = self._thread
            stopped.set()
            thread.join(timeout=2)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def run_every(self, seconds: float, calls: int = 1) -> None:
        """Every `seconds` in the background: export `calls` new calls and read the results until stop()."""
        self.stop()
        stopped = threading.Event()

        def run():
            while not stopped.wait(seconds):
                if calls:
                    self.add_calls(calls)
                self.collect_results()

        thread = threading.Thread(target=run, name="8180-exporter", daemon=True)
        self._thread = (thread, stopped)
        thread.start()

    # -- calls ------------------------------------------------------------------------------

    def now(self) -> datetime:
        value = self.clock()
        value = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
        return value.astimezone(SHANGHAI).replace(microsecond=0)

    def add_calls(self, n: int, *, malformed: int = 0, export: bool = True, **fields: str) -> list[dict]:
        """Take `n` realistic calls (with `fields` given, e.g. 联系电话=...) and, with `export`, export them
        together with `malformed` broken rows in a new file. Returns copies of the calls."""
        factory = OrderFactory(self._rng, self._places)
        added = []
        with self._lock:
            for _ in range(n):
                now = self.now()
                self._seq += 1
                key = f"8180-{now:%y%m}-{self._seq:05d}"
                order = factory.order(key, now)
                text = order["SQNR"]
                if self._rng.random() < 0.3:
                    text += self._rng.choice(_ADDENDA)
                call = {
                    "受理编号": key,
                    "来电时间": datetime.fromisoformat(order["LDSJ"]).strftime("%Y-%m-%d %H:%M:%S"),
                    "来电人": order["LDRXM"],
                    "联系电话": order["LDHM"],
                    "被投诉单位": order["BSQYMC"],
                    "事发地址": order["SFDZ"],
                    "诉求类别": KINDS[order["SQLX"]],
                    "诉求内容": text,
                }
                call.update(fields)
                self._calls[key] = call
                self._pending.append(key)
                added.append(dict(call))
        if export:
            self.export(malformed=malformed)
        return added

    def update_call(self, key: str, **fields: str) -> dict:
        """Change a call (e.g. 诉求内容 with what the caller added); it goes out again in the next export."""
        with self._lock:
            call = self._calls[key]
            call.update(fields)
            if key not in self._pending:
                self._pending.append(key)
            return dict(call)

    def reexport(self, keys: Iterable[str] | None = None, n: int | None = None) -> list[str]:
        """Put calls already exported into the next export again, as the exporter does after a restart."""
        with self._lock:
            chosen = list(keys) if keys is not None else self._exported[: n if n is not None else len(self._exported)]
            for key in chosen:
                if key not in self._pending:
                    self._pending.append(key)
            return chosen

    def get(self, key: str) -> dict:
        with self._lock:
            return dict(self._calls[key])

    @property
    def calls(self) -> list[dict]:
        with self._lock:
            return [dict(c) for c in self._calls.values()]

    # -- export files -----------------------------------------------------------------------

    def export(self, *, malformed: int = 0, rows: list[list[str]] | None = None) -> Path:
        """Write every pending call (and `malformed` broken rows, and raw `rows`) to a new inbox file
        through `.part` and a rename; returns the finished file."""
        with self._lock:
            path, data = self._render(malformed, rows)
            part = path.with_name(path.name + ".part")
            with open(part, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(part, path)
            self.files_written.append(path)
            return path

    def write_partial(self) -> Path:
        """Start an export of the pending calls and stop half-way, leaving `name.csv.part`; returns it."""
        with self._lock:
            path, data = self._render(0, None)
            part = path.with_name(path.name + ".part")
            part.write_bytes(data[: len(data) // 2])
            self._partial = (part, data)
            return part

    def finish_partial(self, part: Path) -> Path:
        """Finish the export `write_partial()` began: write the rest, then rename."""
        with self._lock:
            written, data = self._partial
            assert written == part
            part.write_bytes(data)
            path = part.with_name(part.name[: -len(".part")])
            os.replace(part, path)
            self.files_written.append(path)
            return path

    def write_cut(self, where: str = "quote") -> Path:
        """Export the pending calls straight into `name.csv` (no `.part`, as a careless copy does) and stop short:
        `where="quote"` just after a line break inside the last quoted field, `"row"` inside the last row,
        `"character"` in the middle of the last GB18030 character of more than one byte. `finish_cut(path)` writes
        the rest."""
        with self._lock:
            path, data = self._render(0, None)
            if where == "quote":
                opening = data.rfind(b',"')
                line_break = data.find(b"\r\n", opening)
                if opening < 0 or line_break < 0 or line_break + 2 >= len(data) - 2:
                    raise ValueError("no quoted field with a line break to cut inside: add a call whose 诉求内容 has one")
                end = line_break + 2
            elif where == "row":  # ten characters before the end, between characters, in an unquoted field
                text = data.decode(ENCODING)
                end = len(text[:-10].encode(ENCODING))
            elif where == "character":
                text = data.decode(ENCODING)
                last = max(i for i, c in enumerate(text) if len(c.encode(ENCODING)) > 1)
                end = len(text[:last].encode(ENCODING)) + 1
            else:
                raise ValueError(f"cut where? {where!r}")
            path.write_bytes(data[:end])
            self._cut = (path, data)
            return path

    def finish_cut(self, path: Path) -> Path:
        """Write the rest of the file `write_cut()` left short."""
        with self._lock:
            written, data = self._cut
            assert written == path
            path.write_bytes(data)
            self.files_written.append(path)
            return path

    def drop_unreadable(self, how: str = "binary") -> Path:
        """A finished file the connector cannot read: "binary" junk, "utf8" (wrong encoding), "header"."""
        with self._lock:
            path = self.inbox / self._file_name()
            if how == "binary":
                data = b"PK\x03\x04\x14\x00\x06\x00" + bytes([0x80, 0xff, 0xfe, 0x00]) * 20
            elif how == "utf8":
                data = ("\r\n".join([",".join(HEADER), "8180-2611-00001,2026-11-22 10:00:00,陈女士,13800000000,"
                                     "某店,顺德区大良街道,投诉,商家不退款"]) + "\r\n").encode("utf-8")
            else:
                data = "工单号,时间,内容\r\n1,2,3\r\n".encode(ENCODING)
            path.write_bytes(data)
            return path

    def _file_name(self) -> str:
        # One file per second at most, as the exporter names files by the second.
        stamp = self.now()
        if self._last_name_time is not None and stamp <= self._last_name_time:
            stamp = self._last_name_time + timedelta(seconds=1)
        self._last_name_time = stamp
        return f"8180-{stamp:%Y%m%d-%H%M%S}.csv"

    def _render(self, malformed: int, rows: list[list[str]] | None) -> tuple[Path, bytes]:
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        keys, self._pending = self._pending, []
        for key in keys:
            writer.writerow([self._calls[key][h] for h in HEADER])
            if key not in self._exported:
                self._exported.append(key)
        for i in range(malformed):
            writer.writerow(self._broken_row(i))
        for row in rows or []:
            writer.writerow(row)
        return self.inbox / self._file_name(), out.getvalue().encode(ENCODING)

    def _broken_row(self, variant: int) -> list[str]:
        now = self.now()
        self._seq += 1
        row = {
            "受理编号": f"8180-{now:%y%m}-{self._seq:05d}", "来电时间": now.strftime("%Y-%m-%d %H:%M:%S"),
            "来电人": "何先生", "联系电话": "13902200000", "被投诉单位": "容桂盈丰快餐店",
            "事发地址": "佛山市顺德区容桂街道容里社区文化路18号", "诉求类别": "投诉",
            "诉求内容": "来电人反映，在该店就餐后腹痛，要求商家赔偿。",
        }
        kind = variant % 3
        if kind == 0:
            return [row[h] for h in HEADER if h != "被投诉单位"]  # a column short
        if kind == 1:
            row["受理编号"] = ""
        else:
            row["来电时间"] = self._rng.choice(["2026/11/22 下午3点", "0000-00-00 00:00:00", "22-11-2026 15:04"])
        return [row[h] for h in HEADER]

    # -- results ----------------------------------------------------------------------------

    def collect_results(self) -> int:
        """Read every finished result file in the outbox, delete it, and apply each record once.
        Returns how many records were applied now."""
        applied = 0
        with self._lock:
            if not self.outbox.is_dir():
                return 0
            for path in sorted(self.outbox.iterdir()):
                if not path.is_file() or path.name.endswith(".part"):
                    continue
                try:
                    text = path.read_bytes().decode(ENCODING)
                except (OSError, UnicodeDecodeError):
                    continue
                rows = list(csv.reader(io.StringIO(text, newline="")))
                path.unlink()
                if not rows or [h.strip() for h in rows[0]] != RESULT_HEADER:
                    self.unknown_results.append({"file": path.name, "reason": "not a result file"})
                    continue
                for fields in rows[1:]:
                    if not fields:
                        continue
                    applied += self._apply(dict(zip(RESULT_HEADER, fields)), path.name)
        return applied

    def _apply(self, result: dict[str, str], file: str) -> int:
        key, status = result.get("受理编号", ""), result.get("处理状态", "")
        call = self._calls.get(key)
        if call is None or status not in RESULT_STATUSES:
            self.unknown_results.append(result | {"file": file})
            return 0
        if (key, status) in self._applied:
            return 0  # the same record written twice is applied once
        self._applied.add((key, status))
        call["状态"] = status
        call["处理结果"] = result.get("处理结果", "")
        call["承办单位"] = result.get("承办单位", "")
        if result.get("办结时间"):
            call["办结时间"] = result["办结时间"]
        self._effects.append({"key": key, "status": status, "result": result.get("处理结果", ""),
                              "unit": result.get("承办单位", ""), "done_at": result.get("办结时间", ""),
                              "file": file})
        return 1

    @property
    def effects(self) -> list[dict]:
        """Applied result records in order: {key, status, result, unit, done_at, file}."""
        with self._lock:
            return copy.deepcopy(self._effects)

    def effect_count(self, key: str, status: str) -> int:
        with self._lock:
            return sum(1 for e in self._effects if e["key"] == key and e["status"] == status)

    def state(self) -> dict[str, Any]:
        """The hotline's view of every call (for a reconciliation by eye)."""
        with self._lock:
            return {k: dict(v) for k, v in self._calls.items()}
