"""The twilio REST client, pointed at Twilio or at any endpoint that speaks its API (the stand-in in
`simulators/`, a compatible provider): the package has no base-URL setting, so its HTTP client rewrites URLs."""
from __future__ import annotations

import re
from typing import Optional

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

# api.twilio.com, and the regional/edge forms the client builds (api.dublin.ie1.twilio.com).
_TWILIO_API = re.compile(r"^https://api(?:\.[a-z0-9-]+)*\.twilio\.com(?=/|$)")


class BaseUrlHttpClient(TwilioHttpClient):
    """A TwilioHttpClient that sends every request meant for Twilio's API to `base_url` instead."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args, **kwargs):
        return super().request(method, _TWILIO_API.sub(lambda _: self.base_url, url, count=1), *args, **kwargs)


def make_twilio_client(account_sid: str, auth_token: str, base_url: Optional[str] = None,
                       timeout: float = 10) -> Client:
    """A twilio Client; with `base_url` every API call goes there instead of api.twilio.com."""
    http_client = BaseUrlHttpClient(base_url, timeout=timeout) if base_url else TwilioHttpClient(timeout=timeout)
    return Client(account_sid, auth_token, http_client=http_client)
