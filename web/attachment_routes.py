"""GET /tickets/NUMBER/photos/ID: a photo that came with a ticket's result, for signed-in staff who may see the
ticket, as the image type its bytes showed when it was taken in."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from accounts import Viewer, can_see
from tickets import store
from tickets.attachments import photo_data
from web.page_auth import PageForbidden, current_user


def router(ctx) -> APIRouter:
    r = APIRouter()

    @r.get("/tickets/{number}/photos/{photo_id}")
    def photo(request: Request, number: str, photo_id: int, viewer: Viewer = Depends(current_user)):
        with ctx.db.transaction() as s:
            try:
                ticket = store.get_by_number(s, number)
            except store.TicketNotFound:
                raise PageForbidden(f"没有编号为 {number} 的工单。", status_code=404)
            if not can_see(viewer, ticket):
                raise PageForbidden(f"工单 {number} 不在您的单位的管辖范围内，无权查看。")
            found = photo_data(s, ticket.id, photo_id)
        if found is None:
            raise PageForbidden("没有这张照片。", status_code=404)
        content_type, data = found
        return Response(data, media_type=content_type,
                        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'none'"})

    return r
