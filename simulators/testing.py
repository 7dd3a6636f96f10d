"""Helpers for tests and benchmarks that run a worker against the stand-ins."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "test-auth-token"


def write_config(path, db_url: str, hotline, sms_provider, *, page_size: int = 50, claim_seconds: float = 60,
                 timeout_seconds: float | None = None, extra: str = "", units_file=None, rules_file=None,
                 poll_seconds: float = 0.5, job_seconds: dict[str, float] | None = None, web_port: int = 0) -> str:
    """A config.yaml for a worker wired to the stand-ins, with the default units and rules unless others are given.
    The jobs come round every half second unless `job_seconds` says otherwise (e.g. {"dispatch": 2}).
    The 12345 channel waits 5 s for an answer, or less where a short claim asks for it: a write-back's requests
    (four, see `writeback_requests`) must fit in one claim, or the configuration does not load."""
    if timeout_seconds is None:
        timeout_seconds = min(5.0, claim_seconds / 5)
    jobs = {"dispatch": 0.5, "sms": 0.5, "outbox": 0.5} | (job_seconds or {})
    path.write_text(f"""
database_url: "{db_url}"
units_file: "{units_file or ROOT / 'units.yaml'}"
rules_file: "{rules_file or ROOT / 'rules.yaml'}"
log_level: warning
web:
  port: {web_port}
jobs:
  dispatch_seconds: {jobs["dispatch"]:g}
  sms_seconds: {jobs["sms"]:g}
  outbox_seconds: {jobs["outbox"]:g}
  claim_seconds: {claim_seconds}
writeback:
  backoff_seconds: 0.2
  max_backoff_seconds: 2
sms:
  account_sid: "{TWILIO_SID}"
  auth_token: "{TWILIO_TOKEN}"
  from_number: "+8610691234512"
  base_url: "{sms_provider.base_url}"
  backoff_seconds: 0.2
channels:
  - name: 12345-shunde
    kind: "12345"
    poll_seconds: {poll_seconds:g}
    settings:
      base_url: "{hotline.base_url}"
      app_id: oq-test
      app_secret: s3cret
      page_size: {page_size}
      timeout_seconds: {timeout_seconds:g}
      rate_limit_rps: null          # the test stand-in has no limit unless a test sets one
{extra}""", encoding="utf-8")
    return str(path)


def wait_for(condition: Callable[[], Any], what: str, seconds: float = 30) -> Any:
    """Poll `condition` until it gives something true, and return that; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def running_worker(config) -> Iterator[Any]:
    """A worker started as `onequeue run` starts it (its stand-ins, web service and jobs on their intervals, on
    threads of their own), and stopped on leaving the block."""
    from worker import Worker

    worker = Worker(config)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def stops_within(worker, seconds: float) -> bool:
    """Stop `worker` as SIGTERM stops `onequeue run`; whether it had wound down within `seconds`."""
    threading.Thread(target=worker.stop, name="stopping", daemon=True).start()
    return worker.join(seconds)
