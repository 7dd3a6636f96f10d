"""The one backoff of every retry (SMS, write-backs, HTTP to a source): doubling from a base, capped, with jitter,
so that rows that failed together do not all come back in the same second."""
from __future__ import annotations

import random

# 2 ** 60 times any base is far past any cap: larger exponents only risk a float overflow.
_MAX_EXPONENT = 60


def backoff_seconds(attempts: int, base: float, cap: float, jitter: bool = True) -> float:
    """Seconds to wait after the `attempts`-th failed attempt (1 for the first): `base` doubled per attempt
    after the first, at most `cap`; with `jitter`, a random half to all of that."""
    delay = min(cap, base * 2 ** min(_MAX_EXPONENT, max(0, attempts - 1)))
    return delay * random.uniform(0.5, 1.0) if jitter else delay
