"""POST /intake/{channel}: partners push tickets, signed with their shared secret (channels of kind web_push)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from connectors import build_enabled
from connectors.web_push import SIGNATURE_HEADER, PushRejected
from web.receive import receive


def router(ctx) -> APIRouter:
    r = APIRouter()
    connectors = build_enabled(ctx.config.channels, kinds={"web_push"})

    @r.post("/intake/{channel}")
    async def intake(channel: str, request: Request) -> JSONResponse:
        connector = connectors.get(channel)
        if connector is None:
            return JSONResponse({"error": f"no web intake channel named {channel!r}"}, status_code=404)
        body = await request.body()
        try:
            record = connector.accept(body, request.headers.get(SIGNATURE_HEADER))
        except PushRejected as exc:
            answer = {"error": str(exc)} | ({"errors": exc.errors} if exc.errors else {})
            return JSONResponse(answer, status_code=exc.status)
        got = await run_in_threadpool(receive, ctx.db, channel, "web_push", record)
        return JSONResponse({"ticket": got.number, "status": got.status, "reference": record.source_ref},
                            status_code=201 if got.created else 200)

    return r
