"""A partner platform's callback endpoint: it receives the results onequeue POSTs for the tickets the
partner pushed, checks their signature, applies each idempotency key once, and can be told to fail."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter

from simulators.http_base import Reply, Request, StandInServer, json_reply


class PartnerCallback(StandInServer):
    """POST /callbacks/... with a JSON event: 401 if X-Signature does not verify, else the event is applied
    once per Idempotency-Key (a repeat is answered 200 again, with no second effect).

    `fail_next(n, status)` fails the next requests before anything happens; with `after_effect=True` the
    event is applied first and only the answer fails, as when a connection drops on the way back; `body=`
    is the JSON the failing answer carries instead of the usual one."""

    def __init__(self, secret: str, *, host: str = "127.0.0.1", port: int = 0):
        super().__init__(host, port)
        self.secret = secret
        self.events: list[dict] = []          # every effect applied, in order
        self.refused: list[dict] = []         # requests whose signature did not verify
        self._keys: set[str] = set()
        self._changed = threading.Condition()

    def url(self, path: str = "/callbacks/onequeue") -> str:
        return self.base_url + path

    def effect_count(self, reference: str, event: str) -> int:
        return Counter((e["reference"], e["event"]) for e in self.events)[(reference, event)]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.events) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.events)} events arrived, expected {count}")
                self._changed.wait(left)
            return list(self.events)

    def handle(self, request: Request) -> Reply:
        failure = self._take_failure()
        if failure is not None and not failure[1].get("after_effect"):
            return json_reply(failure[0], failure[1].get("body", {"error": "partner unavailable"}),
                              failure[1].get("headers"))
        if request.method != "POST" or not request.path.startswith("/callbacks/"):
            return json_reply(404, {"error": "not found"})
        expected = "sha256=" + hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Signature", ""), expected):
            with self._changed:
                self.refused.append({"path": request.path, "body": request.body.decode("utf-8", "replace")})
            return json_reply(401, {"error": "signature does not verify"})
        try:
            event = json.loads(request.body)
        except ValueError:
            return json_reply(400, {"error": "not JSON"})
        key = request.headers.get("Idempotency-Key") or event.get("idempotency_key")
        with self._changed:
            if key not in self._keys:
                self._keys.add(key)
                self.events.append(event)
                self._changed.notify_all()
        if failure is not None:  # applied, but the answer is lost on the way back
            return json_reply(failure[0], {"error": "partner unavailable"}, failure[1].get("headers"))
        return Reply(200, b'{"ok": true}')
