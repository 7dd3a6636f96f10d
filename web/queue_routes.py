"""GET /: the queue (for now a placeholder page on the skeleton)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from accounts import Viewer
from web.page_auth import current_user
from web.templating import render


def router(ctx) -> APIRouter:
    r = APIRouter()

    @r.get("/")
    def queue(request: Request, viewer: Viewer = Depends(current_user)):
        return render(request, "queue.html")

    return r
