"""structlog as JSON lines, with personal data masked on every line, the standard library's logs included."""
from __future__ import annotations

import logging
import sys

import structlog

from settings.masking import mask_event

SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
# Masking comes after the traceback is written out, so a database error's text in it is masked too.
RENDER = [structlog.processors.format_exc_info, mask_event, structlog.processors.JSONRenderer(ensure_ascii=False)]


class _CurrentStderr:
    """Whatever sys.stderr is when a line is written (not when logging was set up), so a replaced stderr
    (a test's capture, a daemon's redirect) never leaves the logger writing to a closed file."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "info", stream=None) -> None:
    stream = stream or _CurrentStderr()
    numeric = getattr(logging, level.upper(), logging.INFO)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *SHARED],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *RENDER],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for noisy in ("apscheduler", "twilio.http_client", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    # A run skipped because the previous one is still going is the intended behaviour, not news.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    structlog.configure(
        processors=[*SHARED, *RENDER],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
