"""Outside demo mode every secret must be one of the site's own: the demo values shipped in config.yaml are
public, so a worker holding one (or none) would let anyone sign an SMS, a push or an Open311 request."""
from __future__ import annotations

from typing import Any, Iterator

from pydantic import BaseModel, ValidationError

# The public stand-in secrets config.yaml falls back to when its ${ENV} variable is not set.
DEMO_SECRETS = frozenset({"demo-auth-token", "demo-miniprogram-secret", "demo-open311-key", "demo-secret",
                          "demo-mail-password"})


def _secret_fields(model: BaseModel, loc: tuple) -> Iterator[tuple[tuple, Any]]:
    """(location, value) of every field declared secret (repr=False), nested models included."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if field.repr is False:
            yield loc + (name,), value
        elif isinstance(value, BaseModel):
            yield from _secret_fields(value, loc + (name,))


def _problem(value: Any) -> str | None:
    values = value if isinstance(value, list) else [value]
    if value is None or value == [] or any(not str(v).strip() for v in values):
        return "missing: outside demo mode this secret must be set"
    if any(str(v) in DEMO_SECRETS for v in values):
        return f"the public demo secret {next(v for v in values if str(v) in DEMO_SECRETS)!r} is set outside demo mode"
    return None


def demo_secret_problems(config) -> list[tuple[tuple, str]]:
    """(location, message) of each secret of `config` (an AppConfig) that is missing or a demo value.
    Optional secrets left unset (None, e.g. an SMTP password defaulting to the IMAP one) are not held to it."""
    from connectors.registry import connector_class

    found: list[tuple[tuple, Any]] = list(_secret_fields(config.sms, ("sms",)))
    for i, ch in enumerate(config.channels):
        if not ch.enabled:
            continue
        try:
            settings = connector_class(ch.kind).Config.model_validate(ch.settings)
        except (KeyError, ValidationError):  # reported by the schema's own checks
            continue
        found += [(("channels", i, "settings") + loc, v) for loc, v in _secret_fields(settings, ())
                  if v is not None]
    return [(loc, msg) for loc, value in found if (msg := _problem(value))]
