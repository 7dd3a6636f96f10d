"""GET /health: the same figures as `onequeue health --json`."""
from __future__ import annotations

from fastapi import APIRouter

from tickets.health import collect


def router(ctx) -> APIRouter:
    r = APIRouter()

    @r.get("/health")
    def health() -> dict:
        return collect(ctx.config, ctx.db)

    return r
