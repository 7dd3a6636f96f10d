"""GET /health: the same figures as `onequeue health --json`."""
from __future__ import annotations

from fastapi import APIRouter


def router(ctx) -> APIRouter:
    r = APIRouter()

    @r.get("/health")
    def health() -> dict:
        from cli.health import collect

        return collect(ctx.config, ctx.db)

    return r
