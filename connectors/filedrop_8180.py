"""The 8180 hotline's file exchange: read the CSV files it exports into an inbox folder, write results as CSV.

When a file moves: `pull` yields a file's rows as batches, and only when the caller comes back for more
(which the poll job does after it has committed the batch with its cursor) is the file moved to `done/`.
A crash, a failed transaction or a poll that stops early leaves the file in the inbox, and the next pull
reads it again; its rows are the same records under the same 受理编号 with the same file time, so the store
finds nothing new. A file that cannot be read at all goes to `rejected/` with `NAME.reason.txt`, and is
listed in the quarantine.

A file cut short (it ends inside a quoted field, in the middle of a GB18030 character, or without the line
break every row ends with) is still being written or was cut by a copy: it is left for the next poll until it
has not changed for `settle_seconds`, and rejected whole then, so a truncated last row never goes in as if whole.
Only regular files are read: a symbolic link in the inbox is rejected as itself, its target never opened.

A record's version is its file's time (from the name `8180-YYYYMMDD-HHMMSS.csv`): a row exported again with
changed content is an update; one exported again unchanged is nothing new.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import stat
import time
from datetime import datetime
from pathlib import Path
from typing import Iterator, Optional

import structlog
from pydantic import Field

from connectors.base import (
    Batch,
    Connector,
    ConnectorConfig,
    SourceUnavailable,
    WriteBackRejected,
    WriteBackRequest,
    WriteBackResult,
    reason_of,
)
from tickets.schema import BadRecord, IncomingTicket
from tickets.vocabulary import CHINA_TZ as CST, KIND_OF_LABEL

log = structlog.get_logger("connectors.8180")

HEADER = ["受理编号", "来电时间", "来电人", "联系电话", "被投诉单位", "事发地址", "诉求类别", "诉求内容"]
RESULT_HEADER = ["受理编号", "处理状态", "处理结果", "承办单位", "办结时间"]
KINDS = {label: KIND_OF_LABEL[label] for label in ("投诉", "举报", "咨询")}  # the only 诉求类别 the hotline files
RESULT_STATUS = {"accepted": "已受理", "resolved": "已办结", "returned": "已退回"}
FILE_TIME = re.compile(r"(\d{8})-(\d{6})")
_seq = itertools.count(1)


class Settings(ConnectorConfig):
    inbox: str = Field(description="the folder the hotline exports into (a mounted share)")
    outbox: str = Field(description="the folder the hotline reads results from")
    encoding: str = "gb18030"
    batch_size: int = Field(500, ge=1, le=5000, description="rows stored per transaction")
    unit_name: str = Field("佛山市顺德区市场监督管理局", description="承办单位 when the result names no unit")
    settle_seconds: float = Field(60, ge=0, le=86400, description="a file cut short is left for the next poll "
                                  "until it has not changed this long, then rejected whole")
    max_file_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="a larger file is rejected whole unread")


class Unreadable(Exception):
    """The file as a whole is not an 8180 export."""


class CutShort(Unreadable):
    """The file ends before its last row does: still being written, or cut by a copy."""


class NotReadYet(Exception):
    """The file changed while it was read: the next poll reads it again."""


# The ticket fields an 8180 row fills, by the column they come from, for a reason an operator can act on.
COLUMN_OF_FIELD = {"source_ref": "受理编号", "received_at": "来电时间", "source_updated_at": "来电时间",
                   "complainant_name": "来电人", "complainant_phone": "联系电话", "business_name": "被投诉单位",
                   "event_address": "事发地址", "kind": "诉求类别", "text": "诉求内容", "title": "诉求内容"}


def file_time(path: Path) -> datetime:
    """The export time in the file's name; its modification time if the name has none."""
    m = FILE_TIME.search(path.name)
    if m:
        try:
            return datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S").replace(tzinfo=CST)
        except ValueError:
            pass
    return datetime.fromtimestamp(path.lstat().st_mtime, CST).replace(microsecond=0)


def read_rows(data: bytes, encoding: str = "gb18030") -> list[tuple[int, list[str]]]:
    """(first line number, fields) of each data row; Unreadable if the file is not an 8180 export, CutShort (an
    Unreadable) if it ends before its last row does."""
    if not data.strip():
        raise Unreadable("the file is empty")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.end >= len(data):
            raise CutShort(f"it ends in the middle of a {encoding} character (byte {exc.start})") from None
        raise Unreadable(f"not {encoding} text (byte {exc.start})") from None
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for fields in reader:
            rows.append((line, fields))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise Unreadable(f"line {line}: {exc}") from None
    if rows:
        _check_last_row_whole(text, rows[-1][0])
    header = [h.strip() for h in rows[0][1]] if rows else []
    if header != HEADER:
        # Say which expected columns are missing, never what the line holds: it may be a caller's data.
        missing = [h for h in HEADER if h not in header]
        raise Unreadable(f"the first line is not the 8180 header ({len(header)} columns; "
                         f"missing {', '.join(missing) or 'none, but in another order'})")
    return [(n, fields) for n, fields in rows[1:] if any(f.strip() for f in fields)]


def _check_last_row_whole(text: str, first_line: int) -> None:
    """CutShort if the row starting at `first_line` (the last) does not end: inside its quotes, or before the
    line break the exporter ends every row with. The lenient reader would take such a row as whole."""
    lines = io.StringIO(text, newline="").readlines()
    tail = "".join(lines[first_line - 1:])
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise CutShort(f"it ends inside a quoted field (the row from line {first_line})") from None
        # any other strictness the lenient reader forgives, as it does in every other row
    if not text.endswith(("\n", "\r")):
        raise CutShort(f"its last line ({len(lines)}) has no line break: the row may be cut")


def normalise(fields: list[str], version: datetime) -> IncomingTicket:
    """One row in the ticket schema; ValueError with the reason if the row breaks the contract."""
    if len(fields) != len(HEADER):
        raise ValueError(f"{len(fields)} columns, expected {len(HEADER)}")
    row = {h: v.strip() for h, v in zip(HEADER, fields)}
    ref = row["受理编号"]
    if not ref:
        raise ValueError("受理编号 is empty")
    try:
        called = datetime.strptime(row["来电时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
    except ValueError:
        raise ValueError(f"来电时间 {row['来电时间'][:30]!r} is not YYYY-MM-DD HH:MM:SS") from None
    if row["诉求类别"] not in KINDS:
        raise ValueError(f"诉求类别 {row['诉求类别'][:10]!r} is not one of 投诉, 举报, 咨询")
    text = row["诉求内容"].replace("\r\n", "\n")
    return IncomingTicket(
        source_ref=ref,
        source_updated_at=max(version, called),
        received_at=called,
        kind=KINDS[row["诉求类别"]],
        title=_title(text),
        text=text,
        complainant_name=row["来电人"] or None,
        complainant_phone=row["联系电话"] or None,
        business_name=row["被投诉单位"] or None,
        event_address=row["事发地址"] or None,
        payload=row,
    )


def _title(text: str) -> str:
    """The hotline has no title column: the first clause of the text after "来电人反映，"."""
    body = re.sub(r"^来电人(反映|举报|咨询|建议)[，：:,]?", "", text.strip())
    clause = re.split(r"[。；\n]", body, maxsplit=1)[0]
    return clause[:30] + ("…" if len(clause) > 30 else "")


class FileDrop8180Connector(Connector):
    kind = "8180"
    Config = Settings

    def __init__(self, name: str, config: Settings):
        super().__init__(name, config)
        # A cut-short file's (size, mtime) and when this worker first saw it so (see `_settled`).
        self._unchanged_since: dict[str, tuple[tuple[int, int], float]] = {}

    @property
    def inbox(self) -> Path:
        return Path(self.config.inbox)

    @property
    def outbox(self) -> Path:
        return Path(self.config.outbox)

    def pending_files(self) -> list[Path]:
        """Export files waiting in the inbox, oldest first; never a `.part` file. A link or other non-file entry
        named `*.csv` is listed too, so that `pull` can reject it rather than leave it unexplained."""
        if not self.inbox.is_dir():
            raise SourceUnavailable(f"8180 inbox {self.config.inbox!r} is not a folder (is the share mounted?)")
        files = [p for p in self.inbox.iterdir() if p.name.lower().endswith(".csv") and not p.is_dir()]
        return sorted(files, key=lambda p: (file_time(p), p.name))

    # --- pull ------------------------------------------------------------------------------

    def pull(self, cursor: Optional[str]) -> Iterator[Batch]:
        for path in self.pending_files():
            try:
                data = self._read(path)
                version = file_time(path)
                rows = read_rows(data, self.config.encoding)
            except (FileNotFoundError, NotReadYet):
                continue  # moved by a worker that held the channel before us, or still being written
            except CutShort as exc:
                if not self._settled(path):
                    log.info("file_not_finished", connector=self.name, file=path.name, reason=str(exc),
                             settle_seconds=self.config.settle_seconds)
                    continue
                yield from self._reject(path, f"{path.name}: cut short: {exc} (unchanged for "
                                              f"{self.config.settle_seconds:g} s; export it again)")
                continue
            except Unreadable as exc:
                yield from self._reject(path, f"{path.name}: cannot be read: {exc}")
                continue
            records: list[IncomingTicket] = []
            bad_rows: list[BadRecord] = []
            read = 0
            for n, (line, fields) in enumerate(rows, start=1):
                try:
                    records.append(normalise(fields, version))
                except ValueError as exc:
                    key = fields[0].strip() if fields and fields[0].strip() else None
                    raw = dict(zip(HEADER, fields)) if len(fields) == len(HEADER) else fields
                    reason = f"{path.name} line {line}: {reason_of(exc, COLUMN_OF_FIELD)}"
                    bad_rows.append(BadRecord(raw=raw, reason=reason, source_ref=key))
                if len(records) + len(bad_rows) >= self.config.batch_size or n == len(rows):
                    read = n
                    yield Batch(records, bad_rows, _cursor(path, read), raw_count=len(records) + len(bad_rows))
                    records, bad_rows = [], []
            if not rows:
                yield Batch([], [], _cursor(path, 0))
            # Reached only once the caller has stored the file's last batch and asked for more.
            self._move(path, self.inbox / "done" / path.name)

    def _read(self, path: Path) -> bytes:
        """The bytes of a regular file, never through a link (the target stays unopened and untouched);
        Unreadable for anything else or a file past `max_file_bytes`, NotReadYet if it changed while read."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            if path.is_symlink():
                raise Unreadable("it is a symbolic link; links in the inbox are not followed") from None
            if isinstance(exc, FileNotFoundError):
                raise
            raise Unreadable(f"it cannot be opened ({exc.strerror or exc})") from None
        with os.fdopen(fd, "rb") as f:
            before = os.fstat(f.fileno())
            if not stat.S_ISREG(before.st_mode):
                raise Unreadable("it is not a regular file")
            if before.st_size > self.config.max_file_bytes:
                raise Unreadable(f"it is {before.st_size} bytes, more than max_file_bytes "
                                 f"({self.config.max_file_bytes})")
            data = f.read(self.config.max_file_bytes + 1)
            after = os.fstat(f.fileno())
        if len(data) > self.config.max_file_bytes:
            raise NotReadYet(path.name)  # grew past the limit while read: judged again, whole, next time
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or len(data) != after.st_size:
            self._unchanged_since.pop(path.name, None)
            log.info("file_changed_while_read", connector=self.name, file=path.name)
            raise NotReadYet(path.name)
        return data

    def _settled(self, path: Path) -> bool:
        """True once a file has not changed for `settle_seconds`: by its modification time, or, where the share's
        clock runs ahead, by how long this worker has seen it the same."""
        try:
            st = path.lstat()
        except FileNotFoundError:
            return False
        now, settle = time.time(), self.config.settle_seconds
        seen = self._unchanged_since.get(path.name)
        if seen is None or seen[0] != (st.st_size, st.st_mtime_ns):
            self._unchanged_since[path.name] = seen = ((st.st_size, st.st_mtime_ns), now)
        return now - st.st_mtime >= settle or now - seen[1] >= settle

    def _reject(self, path: Path, reason: str) -> Iterator[Batch]:
        """A file set aside whole: listed in the quarantine, then moved to `rejected/` with its reason."""
        try:
            size = path.lstat().st_size
        except FileNotFoundError:
            return
        bad = BadRecord(raw={"file": path.name, "size": size}, reason=reason)
        yield Batch([], [bad], _cursor(path, 0), raw_count=0)
        self._unchanged_since.pop(path.name, None)
        self._set_aside(path, reason)

    def lag(self, cursor: Optional[str], now: datetime) -> Optional[float]:
        """How long the oldest finished file has waited in the inbox; 0 when none waits."""
        try:
            files = self.pending_files()
        except SourceUnavailable:
            return None
        if not files:
            return 0.0
        return max(0.0, (now - file_time(files[0])).total_seconds())

    def _move(self, path: Path, target: Path) -> None:
        if target.parent.is_symlink():
            raise SourceUnavailable(f"8180 inbox folder {target.parent.name}/ is a symbolic link; it is not followed: "
                                    "make it a folder")
        target.parent.mkdir(exist_ok=True)
        try:
            os.replace(path, target)
        except FileNotFoundError:
            pass  # already moved by a worker that read it before us

    def _set_aside(self, path: Path, reason: str) -> None:
        rejected = self.inbox / "rejected"
        self._move(path, rejected / path.name)
        # Never through a link someone left under that name: the reason goes into a file of our own or nowhere.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(rejected / (path.name + ".reason.txt"), flags, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(reason + "\n")
        except OSError as exc:
            log.warning("reason_file_not_written", connector=self.name, file=path.name, error=exc.strerror)
        log.warning("file_rejected", connector=self.name, file=path.name, reason=reason)

    # --- write-back ------------------------------------------------------------------------

    def write_back(self, request: WriteBackRequest) -> WriteBackResult:
        """One result file per effect. The hotline applies a record written twice once, so a repeat is safe."""
        status = RESULT_STATUS.get(request.effect)
        if status is None:
            raise WriteBackRejected(f"8180 has no result for effect {request.effect!r}")
        body = request.body
        text = {"accepted": "已受理，正在办理", "resolved": body.get("result", ""),
                "returned": body.get("reason", "")}[request.effect]
        done_at = ""
        if request.effect != "accepted":
            at = datetime.fromisoformat(body["at"]) if body.get("at") else datetime.now(CST)
            done_at = at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(RESULT_HEADER)
        writer.writerow([request.source_ref, status, text, body.get("unit_name") or self.config.unit_name, done_at])
        try:
            name = self._write_atomically(out.getvalue().encode(self.config.encoding))
        except OSError as exc:
            raise SourceUnavailable(f"8180 outbox {self.config.outbox!r}: {exc.strerror or exc}") from None
        return WriteBackResult("done", f"{status} in {name}")

    def _write_atomically(self, data: bytes) -> str:
        """`result-YYYYMMDD-HHMMSS-<seq>.csv`, written as `.part` and then given its name, never over another."""
        if not self.outbox.is_dir():
            raise FileNotFoundError(2, "not a folder (is the share mounted?)")
        stamp = datetime.now(CST)
        while True:
            name = f"result-{stamp:%Y%m%d-%H%M%S}-{os.getpid() % 100000:05d}{next(_seq):04d}.csv"
            final = self.outbox / name
            part = self.outbox / (name + ".part")
            try:
                with open(part, "xb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
            except FileExistsError:
                continue
            try:
                os.link(part, final)  # fails rather than replace a file of the same name
                os.unlink(part)
            except FileExistsError:
                os.unlink(part)
                continue
            except OSError:  # a share without hard links
                if final.exists():
                    os.unlink(part)
                    continue
                os.replace(part, final)
            return name


def _cursor(path: Path, rows: int) -> str:
    return json.dumps({"file": path.name, "rows": rows}, ensure_ascii=False)
