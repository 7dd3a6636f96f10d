"""A loopback HTTP endpoint that records what is posted to it: the far side of webhooks in tests
(Twilio status callbacks, inbound SMS), checking Twilio's signature when given the auth token."""
from __future__ import annotations

import threading
import time

from twilio.request_validator import RequestValidator

from simulators.http_base import Reply, Request, StandInServer, json_reply


class RecordingReceiver(StandInServer):
    """Records each request as {method, path, url, headers, form, signature_ok}; answers `status`.

    With `auth_token`, a request whose X-Twilio-Signature does not verify is answered 403, as a
    webhook must refuse it, and is recorded with signature_ok False.
    """

    def __init__(self, auth_token: str | None = None, *, host: str = "127.0.0.1", port: int = 0, status: int = 200):
        super().__init__(host, port)
        self.status = status
        self._validator = RequestValidator(auth_token) if auth_token else None
        self._received: list[dict] = []
        self._changed = threading.Condition()

    def url(self, path: str = "/") -> str:
        """The full URL of `path` on this receiver (start() first)."""
        return self.base_url + path

    @property
    def received(self) -> list[dict]:
        with self._changed:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Block until at least `count` requests arrived; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._received)} requests arrived, expected {count}")
                self._changed.wait(left)
            return list(self._received)

    def handle(self, request: Request) -> Reply:
        url = self.base_url + request.target
        form = request.form() if request.method == "POST" else {}
        signature = request.headers.get("X-Twilio-Signature", "")
        signature_ok = self._validator.validate(url, form, signature) if self._validator else None
        with self._changed:
            self._received.append({"method": request.method, "path": request.path, "url": url,
                                   "headers": dict(request.headers.items()), "form": form,
                                   "signature_ok": signature_ok})
            self._changed.notify_all()
        if signature_ok is False:
            return json_reply(403, {"error": "signature does not verify"})
        return Reply(self.status, b"<Response></Response>", "text/xml")

