"""HTTP to a source, with the retries every source needs: backoff with jitter, Retry-After, timeouts."""
from __future__ import annotations

import threading
import time
from email.utils import parsedate_to_datetime
from typing import Callable, Optional

import requests
import structlog

from connectors.base import SourceUnavailable
from connectors.pacing import Pacer
from tickets.backoff import backoff_seconds

log = structlog.get_logger("connectors.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def retry_after_seconds(resp: requests.Response) -> Optional[float]:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class RetryingHttp:
    """A requests session bound to a base URL that retries transient failures a bounded number of times."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 10.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        rate_limit: Optional[float] = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.pacer = Pacer(rate_limit)
        self.session = requests.Session()

    def request(self, method: str, path: str, *, attempts: Optional[int] = None, defer_retry_after: bool = False,
                **kw) -> requests.Response:
        """Send; return the first non-transient answer, or raise SourceUnavailable when attempts run out.
        With `defer_retry_after` (write-backs), an answer with Retry-After ends the call at once, the wait
        carried on the SourceUnavailable: the outbox keeps it, and an attempt stays within its claim."""
        attempts = attempts or self.max_attempts
        kw.setdefault("timeout", self.timeout)
        url = self.base_url + path
        last: str = ""
        wait_hint: Optional[float] = None
        for attempt in range(1, attempts + 1):
            self.pacer.wait()
            try:
                resp = self.session.request(method, url, **kw)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"{type(exc).__name__}: {exc.__class__.__doc__ or ''}".strip()
                wait_hint = None
            else:
                if resp.status_code not in RETRY_STATUSES:
                    return resp
                wait_hint = retry_after_seconds(resp)
                last = f"HTTP {resp.status_code}"
            if attempt == attempts:
                break
            if wait_hint is not None and (wait_hint > self.max_retry_after or defer_retry_after):
                break  # a long maintenance window, or a write-back: give up now, come back later
            delay = wait_hint if wait_hint is not None else backoff_seconds(attempt, self.backoff, self.max_backoff)
            log.info("http_retry", method=method, path=path.split("?")[0], attempt=attempt, reason=last,
                     delay=round(delay, 3))
            self.sleep(delay)
        raise SourceUnavailable(f"{method} {path.split('?')[0]}: {last} after {attempts} attempt(s)", wait_hint)


def json_body(resp: requests.Response) -> dict:
    """The answer's JSON object, or {} when it is not one (an HTML maintenance page, an empty body)."""
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# A token is renewed when this share of its lifetime has passed: early enough for a long-lived token to be
# renewed well before it lapses, late enough that a token living under a minute still serves many requests.
RENEW_AT = 0.8


class BearerToken:
    """A bearer token fetched on first use, renewed when most of its lifetime has passed and once more on a 401.

    `fetch(attempts)` asks the source for a token and returns it with its lifetime in seconds."""

    def __init__(self, http: RetryingHttp, fetch: Callable[[Optional[int]], tuple[str, float]],
                 clock: Callable[[], float] = time.monotonic):
        self.http = http
        self.fetch = fetch
        self.clock = clock
        self._token: Optional[str] = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def headers(self, renew: bool = False, attempts: Optional[int] = None) -> dict[str, str]:
        with self._lock:
            if renew or self._token is None or self.clock() >= self._expires:
                token, lifetime = self.fetch(attempts)
                self._token, self._expires = token, self.clock() + max(0.0, lifetime) * RENEW_AT
            return {"Authorization": f"Bearer {self._token}"}

    def forget(self) -> None:
        """The source refused the token: the next call fetches another."""
        with self._lock:
            self._token = None

    def call(self, method: str, path: str, attempts: Optional[int] = None, **kw) -> requests.Response:
        """Send with the token; an expired or revoked token (401) is renewed and the call sent once more."""
        resp = self.http.request(method, path, headers=self.headers(attempts=attempts), attempts=attempts, **kw)
        if resp.status_code == 401:
            resp = self.http.request(method, path, headers=self.headers(renew=True, attempts=attempts),
                                     attempts=attempts, **kw)
        return resp
