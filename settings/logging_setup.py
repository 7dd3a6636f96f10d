"""structlog as JSON lines, with personal data masked on every line."""
from __future__ import annotations

import logging
import sys

import structlog

from settings.masking import mask_event


def configure_logging(level: str = "info", stream=None) -> None:
    stream = stream or sys.stderr
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), stream=stream, format="%(message)s")
    for noisy in ("apscheduler", "twilio.http_client", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_event,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
