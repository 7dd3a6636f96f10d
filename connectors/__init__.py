"""Connectors: one module per source kind that pulls records into the queue and writes results back.

Exports the base class, the data they exchange with the rest of onequeue, and the registry.
"""
from connectors.base import (
    Batch,
    Connector,
    CursorExpired,
    SourceUnavailable,
    WriteBackRejected,
    WriteBackRequest,
    WriteBackResult,
)
from connectors.registry import build_connector, build_enabled, connector_class, known_kinds

__all__ = [
    "Batch", "Connector", "CursorExpired", "SourceUnavailable", "WriteBackRejected", "WriteBackRequest", "WriteBackResult",
    "build_connector", "build_enabled", "connector_class", "known_kinds",
]
