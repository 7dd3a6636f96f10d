"""Connector kinds by name, imported only when a configured channel uses them.

Third-party kinds join through the `onequeue.connectors` entry-point group.
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Container, Iterable, Optional

from connectors.base import Connector

KINDS: dict[str, str] = {
    "12345": "connectors.workorders_12345:WorkOrder12345Connector",
    "12315": "connectors.platform_12315:Platform12315Connector",
    "8180": "connectors.filedrop_8180:FileDrop8180Connector",
    "walk_in": "connectors.walk_in:WalkInConnector",
    "web_push": "connectors.web_push:WebPushConnector",
    "rest": "connectors.rest_channel:RestChannelConnector",
    "open311": "connectors.open311:Open311Connector",
    "email": "connectors.complaints_mail:ComplaintsMailConnector",
}


def known_kinds() -> list[str]:
    kinds = set(KINDS)
    kinds.update(ep.name for ep in entry_points(group="onequeue.connectors"))
    return sorted(kinds)


def connector_class(kind: str) -> type[Connector]:
    target = KINDS.get(kind)
    if target is None:
        for ep in entry_points(group="onequeue.connectors"):
            if ep.name == kind:
                return ep.load()
        raise KeyError(f"unknown connector kind {kind!r}; known kinds: {', '.join(known_kinds())}")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def build_connector(name: str, kind: str, settings: dict[str, Any]) -> Connector:
    cls = connector_class(kind)
    return cls(name, cls.Config.model_validate(settings))


def build_enabled(channels: Iterable[Any], kinds: Optional[Container[str]] = None) -> dict[str, Connector]:
    """The connector of every enabled channel of the configuration (of `kinds` only, if given), by channel
    name: built once, where the worker, the web service or a command needs them."""
    return {ch.name: build_connector(ch.name, ch.kind, ch.settings) for ch in channels
            if ch.enabled and (kinds is None or ch.kind in kinds)}
