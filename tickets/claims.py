"""Claims on work rows (SMS, write-backs): a row is held by one worker (`claimed_by`) until `claimed_until`, and
the one loop that works through claimed rows: renew before each attempt, stop after the run's time or when the
worker stops, and hand back what was not tried. Renewals and releases are each their own short transaction, so
every worker sees them at once."""
from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Callable, Hashable, Iterable, Optional, Sequence, TypeVar

from sqlalchemy import Select, update
from sqlalchemy.orm import Session

from tickets.clock import SYSTEM_CLOCK, Clock
from tickets.db import Database, is_postgres

Row = TypeVar("Row")


@dataclass(frozen=True)
class Claims:
    """One worker's claims on one table of work rows; a claimed row has status `held_as`."""

    db: Database
    model: Any
    owner: str
    held_as: str
    seconds: float
    clock: Clock = SYSTEM_CLOCK

    def until(self) -> Any:
        return self.clock.now() + timedelta(seconds=self.seconds)

    def take(self, session: Session, stmt: Select, **values: Any) -> list:
        """Claim the rows `stmt` selects, setting `values` on them too. On PostgreSQL a row another worker is
        claiming is skipped (FOR UPDATE SKIP LOCKED); on SQLite the transaction holds the file (BEGIN IMMEDIATE)."""
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True, of=self.model)
        rows = list(session.scalars(stmt))
        until = self.until()
        for row in rows:
            row.claimed_by, row.claimed_until = self.owner, until
            for name, value in values.items():
                setattr(row, name, value)
        return rows

    def renew(self, row_id: int) -> bool:
        """Extend our claim on the row by a claim period; False if it lapsed and another worker took the row up
        (or it is no longer `held_as`)."""
        model = self.model
        with self.db.transaction() as s:
            renewed = s.execute(update(model).where(
                model.id == row_id, model.status == self.held_as, model.claimed_by == self.owner,
            ).values(claimed_until=self.until())).rowcount
        return renewed == 1

    def release(self, row_ids: Iterable[int], **values: Any) -> int:
        """Release the rows still ours and still `held_as` (with `values` set too); a row another worker took up
        after our claim lapsed stays with that worker. Returns how many were released."""
        model = self.model
        with self.db.transaction() as s:
            return s.execute(update(model).where(
                model.id.in_(list(row_ids)), model.status == self.held_as, model.claimed_by == self.owner,
            ).values(**{"claimed_by": None, "claimed_until": None, **values})).rowcount


@dataclass
class RunEnd:
    """How a run through claimed rows ended: `drained`, `stopping` or `run_time_spent`."""

    reason: str = "drained"
    lost: int = 0           # lapsed while the run worked on others, and taken up by another worker: left to it
    handed_back: int = 0    # claimed, not tried, released for another worker (or the next run) to take up at once


def work_batch(claims: Claims, batch: Sequence[Row], attempt: Callable[[Row], None], *, ends: float,
               stopping: Callable[[], bool], end: Optional[RunEnd] = None, pace: Callable[[], None] = lambda: None,
               hand_back: Optional[dict] = None, on_lost: Callable[[Row], None] = lambda row: None) -> RunEnd:
    """Attempt each claimed row in turn, renewing the claim right before (after `pace`), and skipping a row whose
    claim lapsed and was taken up elsewhere. A batch once claimed is begun, so a run always gets somewhere; then
    it ends when `claims.clock` passes `ends` or `stopping()`, releasing the rest with `hand_back` values set."""
    end = end if end is not None else RunEnd()
    for n, row in enumerate(batch):
        if stopping() or (n and claims.clock.monotonic() >= ends):
            end.reason = "stopping" if stopping() else "run_time_spent"
            end.handed_back += claims.release([r.id for r in batch[n:]], **(hand_back or {}))
            return end
        pace()
        if not claims.renew(row.id):
            end.lost += 1
            on_lost(row)
            continue
        attempt(row)
    return end


def work_through(claims: Claims, claim_batch: Callable[[], Sequence[Row]], attempt: Callable[[Row], None], *,
                 ends: float, stopping: Callable[[], bool], pace: Callable[[], None] = lambda: None,
                 hand_back: Optional[dict] = None, on_lost: Callable[[Row], None] = lambda row: None,
                 lanes: int = 1, lane_of: Callable[[Row], Hashable] = lambda row: row.id) -> RunEnd:
    """Claim a batch and work through it (`work_batch`), batch after batch, until nothing is claimable, the run's
    time is spent or the worker stops. With `lanes` above one, a batch is worked through on that many threads at
    once, the rows with one `lane_of` (a phone number, a ticket) in one lane, in their order; `attempt` must then
    be safe to call from several threads."""
    end = RunEnd()
    with ThreadPoolExecutor(lanes - 1, thread_name_prefix="lane") if lanes > 1 else nullcontext() as pool:
        while True:
            if stopping() or claims.clock.monotonic() >= ends:
                end.reason = "stopping" if stopping() else "run_time_spent"
                return end
            batch = claim_batch()
            if not batch:
                return end
            work = partial(work_batch, claims, attempt=attempt, ends=ends, stopping=stopping, pace=pace,
                           hand_back=hand_back, on_lost=on_lost)
            if pool is None:
                work(batch, end=end)
            else:
                split: dict[int, list] = defaultdict(list)
                for row in batch:
                    split[hash(lane_of(row)) % lanes].append(row)
                first, *others = split.values()
                waiting = [pool.submit(work, rows) for rows in others]
                ends_here = [work(first)] + [w.result() for w in waiting]
                for lane in ends_here:
                    end.lost += lane.lost
                    end.handed_back += lane.handed_back
                    if lane.reason != "drained":
                        end.reason = lane.reason
            if end.reason != "drained":
                return end
