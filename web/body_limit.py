"""Every request body is bounded before any route reads it: a body announced or streamed past the limit is
answered 413 without reading the rest, and multipart (files) is taken only where a page uploads a file."""
from __future__ import annotations

import structlog
from starlette.exceptions import HTTPException

log = structlog.get_logger("web")

# Paths that take a file (multipart/form-data), with the larger limit `web.max_upload_bytes`: the visit register.
FILE_PATHS = frozenset({"/walkin/register-file"})


def is_station_result(path: str) -> bool:
    """A station's result with its photos (POST /m/TOKEN/t/NUMBER/resolve), bounded by `max_photos`."""
    return path.startswith("/m/") and path.endswith("/resolve")


class _TooLarge(HTTPException):
    """Raised from the body's stream; an HTTP error, so the framework's form parsing passes it on as a 413."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware: at most `max_body` bytes per request (`max_upload` on FILE_PATHS, `max_photos` on a
    station's result: its photos, each within `station.photo_max_bytes`, and the form)."""

    def __init__(self, app, max_body: int, max_upload: int, max_photos: int = 0):
        self.app, self.max_body, self.max_upload = app, max_body, max_upload
        self.max_photos = max_photos or max_upload

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        station = is_station_result(path)
        files = path in FILE_PATHS or station
        limit = self.max_photos if station else self.max_upload if files else self.max_body
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type == b"multipart/form-data" and not files:
            return await _answer(send, 415, "this address takes no files: send the form urlencoded or JSON")
        try:
            announced = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            return await _answer(send, 400, "Content-Length is not a number")
        if announced > limit:
            log.warning("request_too_large", path=path, announced=announced, limit=limit)
            return await _answer(send, 413, f"the request body is larger than {limit} bytes")

        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            log.warning("request_too_large", path=path, streamed=seen, limit=limit)
            if not started:
                await _answer(send, 413, f"the request body is larger than {limit} bytes")


async def _answer(send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
