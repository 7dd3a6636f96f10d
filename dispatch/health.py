"""What `onequeue health` shows of the rules the workers run: loaded, or refused with the older rules running."""
from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.models import RulesStatus
from dispatch.reload import STATUS_ROW


def rules_health(session: Session, rules_file: str, units_file: str) -> dict:
    """The running rules: "refused" when the file on disk was refused and older rules still run."""
    status = session.get(RulesStatus, STATUS_ROW)
    if status is None:
        return {"state": "not loaded", "file": rules_file, "units_file": units_file, "rule_count": None,
                "loaded_at": None, "loaded_by": None, "last_error": None, "last_error_at": None}
    refused = status.last_error_at is not None and (status.loaded_at is None or status.last_error_at > status.loaded_at)
    return {"state": "refused" if refused else "running", "file": status.rules_file, "units_file": status.units_file,
            "rule_count": status.rule_count, "loaded_at": status.loaded_at, "loaded_by": status.loaded_by,
            "last_error": status.last_error, "last_error_at": status.last_error_at}
