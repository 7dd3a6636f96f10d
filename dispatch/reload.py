"""Hot reload: keep the running Dispatcher in step with units.yaml and rules.yaml while the worker runs.

A changed file that loads is swapped in; one that does not is refused, logged, and recorded for
`onequeue health`, and the rules already running stay.
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Optional

import structlog

from settings import ConfigError
from settings.yaml_loader import ConfigProblem, read_yaml_text

from tickets.db import utcnow
from tickets.upsert import dialect_insert

from dispatch.directory import UnitDirectory
from dispatch.engine import Dispatcher
from dispatch.gazetteer_file import gazetteer_path, read_gazetteer_text
from dispatch.models import RulesStatus

log = structlog.get_logger("dispatch")

STATUS_ROW = "dispatch"
SETTLE_NS = 2_000_000_000   # a file modified this recently is read again on every check
_GOT = re.compile(r" \(got .*\)$", re.S)


def _signature(path: Path) -> Optional[tuple[int, int]]:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _read(path: Path) -> str:
    return read_yaml_text(path)


def for_log(problem: ConfigProblem) -> str:
    """A problem without the value it quotes: a mistyped contact could otherwise put a name or phone in the logs."""
    return str(ConfigProblem(problem.file, problem.line, problem.field, _GOT.sub("", problem.message)))


class RulesReloader:
    """Loads the two files, and on `reload_if_changed()` loads them again when their text changed.

    A change is noticed by size and mtime; a file modified in the last seconds is read again on every
    call, so a second write within the file system's clock tick is not missed.
    Not thread-safe on its own: `RunningRules` serialises the calls and swaps the dispatcher under one lock.
    """

    def __init__(self, units_path: str | Path, rules_path: str | Path):
        self.units_path, self.rules_path = Path(units_path), Path(rules_path)
        self.gazetteer_path = gazetteer_path(self.units_path)    # optional; reloaded like the other two
        self._seen = self._signatures()
        texts, self.digest = self._read()
        self.dispatcher = self._build(*texts)   # a file that does not load here stops the worker
        self._tried: Optional[str] = self.digest
        self.loaded_at: datetime = utcnow()
        self.last_error: Optional[str] = None
        self.last_error_at: Optional[datetime] = None
        self._unsaved = True

    def _signatures(self):
        return _signature(self.units_path), _signature(self.rules_path), _signature(self.gazetteer_path)

    def _read(self) -> tuple[tuple[str, str, str | None], str]:
        units_text, rules_text = _read(self.units_path), _read(self.rules_path)
        places_text = read_gazetteer_text(self.gazetteer_path)
        for path, text in ((self.units_path, units_text), (self.rules_path, rules_text),
                           (self.gazetteer_path, places_text)):
            if text is not None and not text.strip():   # most likely caught between an editor's truncate and write
                raise ConfigError([ConfigProblem(str(path), None, "", "the file is empty; it is not loaded")])
        whole = f"{units_text}\0{rules_text}\0{places_text or ''}"
        return (units_text, rules_text, places_text), hashlib.sha256(whole.encode("utf-8")).hexdigest()

    def _build(self, units_text: str, rules_text: str, places_text: str | None) -> Dispatcher:
        units = UnitDirectory.from_text(units_text, file=str(self.units_path))
        return Dispatcher.from_yaml(units, rules_text, file=str(self.rules_path), gazetteer_text=places_text,
                                    gazetteer_file=str(self.gazetteer_path))

    def _settling(self, seen) -> bool:
        now = time.time_ns()
        return any(sig is not None and now - sig[0] < SETTLE_NS for sig in seen)

    def reload_if_changed(self, db=None, worker: str = "") -> Optional[Dispatcher]:
        """The new Dispatcher if a file changed and loads; None if nothing changed or the change was refused.

        With `db`, the status (loaded, or refused and why) is saved for `onequeue health`.
        """
        fresh = None
        seen = self._signatures()    # taken before reading: an edit made while loading is seen next time
        if seen != self._seen or self._settling(seen):
            self._seen = seen
            fresh = self._try_load()
        if db is not None and self._unsaved:
            self._save(db, worker)
        return fresh

    def _try_load(self) -> Optional[Dispatcher]:
        try:
            texts, digest = self._read()
        except ConfigError as exc:
            self._tried = None
            self._refused(str(exc), [for_log(p) for p in exc.problems])
            return None
        if digest == self._tried:
            return None          # touched, or read again while settling: nothing new
        self._tried = digest
        if digest == self.digest:
            # Back to the text that runs (after a refused edit): nothing to swap, the refusal is over.
            self.loaded_at, self._unsaved = utcnow(), True
            log.info("rules_reloaded", rules_file=str(self.rules_path), units_file=str(self.units_path),
                     unchanged=True)
            return None
        try:
            dispatcher = self._build(*texts)
        except ConfigError as exc:
            self._refused(str(exc), [for_log(p) for p in exc.problems])
            return None
        except Exception as exc:  # whatever goes wrong, the running rules stay
            self._refused(f"could not load: {exc}", [f"could not load: {type(exc).__name__}"])
            return None
        self.dispatcher, self.digest, self.loaded_at, self._unsaved = dispatcher, digest, utcnow(), True
        log.info("rules_reloaded", rules_file=str(self.rules_path), units_file=str(self.units_path),
                 rules=len(dispatcher.rules_file.rules), units=len(dispatcher.units))
        return dispatcher

    def _refused(self, message: str, loggable: list[str]) -> None:
        self.last_error, self.last_error_at, self._unsaved = message, utcnow(), True
        log.error("rules_reload_refused", rules_file=str(self.rules_path), units_file=str(self.units_path),
                  problems=" | ".join(loggable), running_since=self.loaded_at.isoformat())

    def _save(self, db, worker: str) -> None:
        row = {"name": STATUS_ROW, "rules_file": str(self.rules_path), "units_file": str(self.units_path),
               "digest": self.digest, "rule_count": len(self.dispatcher.rules_file.rules),
               "loaded_at": self.loaded_at, "loaded_by": worker[:64] or None, "last_error": self.last_error,
               "last_error_at": self.last_error_at, "updated_at": utcnow()}
        try:
            with db.transaction() as s:
                stmt = dialect_insert(s, RulesStatus).values(**row)
                keep = {k: v for k, v in row.items() if k != "name"}
                if self.last_error is None:
                    # This worker has refused nothing: leave another worker's last refusal on record.
                    keep = {k: v for k, v in keep.items() if k not in ("last_error", "last_error_at")}
                s.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=keep))
        except Exception:  # the status is for people; dispatch goes on without it and saves it next time
            log.warning("rules_status_not_saved", exc_info=True)
            return
        self._unsaved = False


class RunningRules:
    """The dispatcher to use now, for every thread of a process: each call looks at the files again and swaps in
    a change that loads. The worker's dispatch job and the HTTP service's routes both read it."""

    def __init__(self, units_path: str | Path, rules_path: str | Path, db=None, owner: str = ""):
        self.reloader = RulesReloader(units_path, rules_path)
        self.db, self.owner = db, owner   # with a database, the status is saved for `onequeue health`
        self.dispatcher: Dispatcher = self.reloader.dispatcher
        self._lock = threading.Lock()

    def __call__(self) -> Dispatcher:
        """The dispatcher to use now; a reload's outcome is saved for `onequeue health` when there is a database."""
        with self._lock:   # one reload at a time, and the newest dispatcher is the one kept
            return self._reload(self.db)

    def current(self) -> Dispatcher:
        """The same, for callers that may be inside a transaction of their own: it writes nothing, and never waits
        for a reload under way elsewhere (that one may be waiting for the caller's transaction to end)."""
        if self._lock.acquire(blocking=False):
            try:
                return self._reload(None)
            finally:
                self._lock.release()
        return self.dispatcher

    def _reload(self, db) -> Dispatcher:
        fresh = self.reloader.reload_if_changed(db, self.owner)
        if fresh is not None:
            self.dispatcher = fresh   # a batch already running keeps the dispatcher it started with
        return self.dispatcher
