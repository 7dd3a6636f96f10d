"""Claims on work rows (SMS, write-backs): a row is held by one worker (`claimed_by`) until `claimed_until`.
Each function is its own short transaction, so a claim is renewed or released at once for every worker."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterable

from sqlalchemy import update

from tickets.db import Database, utcnow


def renew_claim(db: Database, model, row_id: int, owner: str, held_as: str, seconds: float) -> bool:
    """Extend `owner`'s claim on the row by `seconds`; False if the claim lapsed and another worker took the
    row up (or it is no longer `held_as`)."""
    with db.transaction() as s:
        renewed = s.execute(update(model).where(
            model.id == row_id, model.status == held_as, model.claimed_by == owner,
        ).values(claimed_until=utcnow() + timedelta(seconds=seconds))).rowcount
    return renewed == 1


def release_claims(db: Database, model, row_ids: Iterable[int], owner: str, held_as: str, **values: Any) -> int:
    """Release the rows still claimed by `owner` and still `held_as` (with `values` set too); a row another
    worker took up after our claim lapsed stays with that worker. Returns how many were released."""
    with db.transaction() as s:
        return s.execute(update(model).where(
            model.id.in_(list(row_ids)), model.status == held_as, model.claimed_by == owner,
        ).values(claimed_by=None, claimed_until=None, **values)).rowcount
