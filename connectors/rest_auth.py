"""How a YAML-defined REST channel authenticates: none, a bearer token, OAuth client credentials, or an
HMAC signature over each request."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Annotated, Literal, Optional, Union
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import SourceUnavailable
from connectors.http import BearerToken, RetryingHttp, json_body


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoAuth(_Auth):
    type: Literal["none"] = "none"


class BearerAuth(_Auth):
    type: Literal["bearer"]
    token: str = Field(repr=False, description="give it by ${ENV}")
    header: str = "Authorization"
    prefix: str = "Bearer "


class OAuthClientCredentials(_Auth):
    type: Literal["oauth_client_credentials"]
    token_url: str = Field(description="absolute, or a path on base_url")
    client_id: str
    client_secret: str = Field(repr=False)
    scope: Optional[str] = None
    send_credentials: Literal["body", "basic"] = "body"


class HmacAuth(_Auth):
    type: Literal["hmac"]
    key_id: str
    secret: str = Field(repr=False)
    key_header: str = "X-App-Key"
    timestamp_header: str = "X-Timestamp"
    signature_header: str = "X-Sign"
    # What is signed; {method}, {path}, {query} (sorted, URL-encoded), {timestamp}, {body_sha256}.
    string_to_sign: str = "{method}\n{path}\n{query}\n{timestamp}\n{body_sha256}"
    encoding: Literal["hex", "base64"] = "hex"


AuthConfig = Annotated[Union[NoAuth, BearerAuth, OAuthClientCredentials, HmacAuth], Field(discriminator="type")]


class Authenticator:
    """Adds what the source wants to each request; `renew()` after a 401 fetches a new token."""

    def __init__(self, config: AuthConfig, http: RetryingHttp):
        self.config = config
        self.http = http
        self._absolute = RetryingHttp("", timeout=http.timeout, max_attempts=http.max_attempts)
        self._bearer = BearerToken(self._absolute, self._fetch_token)

    @property
    def renewable(self) -> bool:
        return isinstance(self.config, OAuthClientCredentials)

    def renew(self) -> None:
        self._bearer.forget()

    def headers(self, method: str, path: str, params: dict, body: bytes = b"",
                attempts: Optional[int] = None) -> dict[str, str]:
        """What to add to one request; a token fetched for it is tried `attempts` times, as the request is."""
        cfg = self.config
        if isinstance(cfg, BearerAuth):
            return {cfg.header: cfg.prefix + cfg.token}
        if isinstance(cfg, OAuthClientCredentials):
            return self._bearer.headers(attempts=attempts)
        if isinstance(cfg, HmacAuth):
            stamp = str(int(time.time()))
            query = urlencode(sorted((str(k), str(v)) for k, v in params.items()))
            text = cfg.string_to_sign.format(method=method.upper(), path=path, query=query, timestamp=stamp,
                                             body_sha256=hashlib.sha256(body).hexdigest())
            digest = hmac.new(cfg.secret.encode(), text.encode(), hashlib.sha256)
            signature = digest.hexdigest() if cfg.encoding == "hex" else base64.b64encode(digest.digest()).decode()
            return {cfg.key_header: cfg.key_id, cfg.timestamp_header: stamp, cfg.signature_header: signature}
        return {}

    def _fetch_token(self, attempts: Optional[int]) -> tuple[str, float]:
        """OAuth client credentials: a token and its lifetime from the token endpoint."""
        cfg = self.config
        form = {"grant_type": "client_credentials"}
        if cfg.scope:
            form["scope"] = cfg.scope
        auth = None
        if cfg.send_credentials == "basic":
            auth = (cfg.client_id, cfg.client_secret)
        else:
            form |= {"client_id": cfg.client_id, "client_secret": cfg.client_secret}
        url = cfg.token_url if cfg.token_url.startswith(("http://", "https://")) else self.http.base_url + cfg.token_url
        resp = self._absolute.request("POST", url, data=form, auth=auth, attempts=attempts)
        body = json_body(resp)
        token = body.get("access_token")
        if resp.status_code != 200 or not token:
            raise SourceUnavailable(f"the token endpoint refused client {cfg.client_id!r}: HTTP {resp.status_code} "
                                    f"{body.get('error', '')}".strip())
        return token, float(body.get("expires_in") or 3600)
