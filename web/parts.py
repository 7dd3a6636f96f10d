"""What the pages read from the running parts: each call returns the current one, so a page follows a reload of
units.yaml or rules.yaml; what the web context does not carry (the deadline calendar) is built once per context."""
from __future__ import annotations

import threading
from datetime import datetime
from typing import Optional

from tickets.db import utcnow
from tickets.vocabulary import channel_label
from tickets.worklist import Moments

_lock = threading.Lock()



def _once(ctx, key: str, build):
    """`build()` once per web context, kept on the context itself."""
    name = f"_built_{key}"
    with _lock:
        if getattr(ctx, name, None) is None:
            setattr(ctx, name, build())
        return getattr(ctx, name)


def dispatcher_of(ctx):
    """The dispatcher as the last reload of the units and rules files left it."""
    return ctx.dispatcher()


def units_of(ctx):
    return ctx.units()


def deadlines_of(ctx):
    """The deadline policies and working calendar of the configuration, over the current units' hours."""
    from sla import Deadlines

    return _once(ctx, "deadlines", lambda: Deadlines(ctx.config.sla, units=lambda: units_of(ctx)))


def industries_of(ctx):
    """The industry taxonomy of the configuration, read once per context."""
    from stats.setup import industries_from

    return _once(ctx, "industries", lambda: industries_from(ctx.config))


def districts_of(ctx):
    """The business districts of the configuration, read once per context."""
    from stats.setup import districts_from

    return _once(ctx, "districts", lambda: districts_from(ctx.config))


def stats_labels(ctx):
    """What the statistics call each dimension's values: channels, units, industries and districts by name."""
    from stats.labels import Labels

    return Labels.of(ctx.config, units_of(ctx), industries_of(ctx), districts_of(ctx))


def moments(ctx, now: Optional[datetime] = None) -> Moments:
    now = now or utcnow()
    return Moments(now=now, one_working_day=deadlines_of(ctx).calendar.add_working_days(now, 1).at)


def channel_labels(ctx) -> dict[str, str]:
    return {ch.name: channel_label(ch) for ch in ctx.config.channels}


def writes_back(ctx, channel: str) -> bool:
    """Whether results of this channel's tickets go back to its source system (its kind can write back)."""
    from connectors import Connector
    from connectors.registry import connector_class

    kind = next((ch.kind for ch in ctx.config.channels if ch.name == channel), None)
    if kind is None:
        return False
    try:
        return connector_class(kind).write_back is not Connector.write_back
    except Exception:  # an unknown or unloadable kind: the page says nothing is written back
        return False


def sms_template(ctx, purpose: str = "dispatched") -> str:
    return getattr(ctx.config.sms.templates, purpose)
