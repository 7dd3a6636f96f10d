"""Twilio's webhooks: what became of the SMS we sent (`/webhooks/sms/status`) and the SMS station staff send
us (`/webhooks/sms/inbound`). Both are signed with the account's auth token; a bad signature changes nothing.

The inbound webhook answers with empty TwiML: the answer to the sender (done, refused, the format) is a
planned SMS, sent and tracked like every other, not a TwiML <Message>.
"""
from __future__ import annotations

import re
from typing import Optional

import structlog
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator

from notify.delivery import FINAL, RetryPolicy, apply_status, find_message
from notify.replies import handle_inbound
from settings.masking import mask_phone
from web.receive import MAX_CODE, MAX_ID, text_fields, whole_number

log = structlog.get_logger("web")

STATUS_PATH = "/webhooks/sms/status"
INBOUND_PATH = "/webhooks/sms/inbound"
# Twilio signs the URL and the sorted field values joined without separators, so bytes moved between fields
# keep a captured signature valid: a message id of another shape, or another account's, is not one of ours.
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def router(ctx) -> APIRouter:
    r = APIRouter()
    sms = ctx.config.sms
    validator = RequestValidator(sms.auth_token)
    policy = RetryPolicy(max_attempts=sms.max_attempts, backoff_seconds=sms.backoff_seconds)

    async def signed_form(request: Request, configured_url: Optional[str] = None) -> Optional[dict[str, str]]:
        form = await request.form()
        url = public_url(request, ctx.config.web.public_url, configured_url)
        if not validator.validate(url, form, request.headers.get("X-Twilio-Signature", "")):
            log.warning("sms_webhook_bad_signature", path=request.url.path,
                        from_phone=mask_phone(str(form.get("From") or "")))
            return None
        return text_fields(form)

    def foreign(form) -> Optional[Response]:
        """A 400 naming the field when the ids are not the provider's shape or not our account's; else None."""
        if not MESSAGE_SID.fullmatch(str(form.get("MessageSid") or "")):
            return Response("MessageSid must be SM or MM and 32 hex digits", status_code=400)
        if str(form.get("AccountSid") or "") != sms.account_sid:
            log.warning("sms_webhook_other_account", path=STATUS_PATH if "MessageStatus" in form else INBOUND_PATH)
            return Response("AccountSid is not this service's account", status_code=400)
        return None

    @r.post(STATUS_PATH)
    async def delivery_status(request: Request) -> Response:
        form = await signed_form(request, sms.status_callback_url)
        if form is None:
            return Response("invalid signature", status_code=403)
        sid, status = str(form.get("MessageSid") or ""), str(form.get("MessageStatus") or "").lower()
        if not sid or not status:
            return Response("MessageSid and MessageStatus are required", status_code=400)
        if (refused := foreign(form)) is not None:
            return refused
        if status not in FINAL:  # queued, sending, sent: nothing the sender does not record itself
            return Response(status_code=204)
        code = whole_number(form.get("ErrorCode"), "ErrorCode", 0, MAX_CODE)
        sms_id = whole_number(request.query_params.get("sms"), "sms", 1, MAX_ID)

        def record() -> str:
            with ctx.db.transaction() as s:
                msg = find_message(s, sid, sms_id)
                if msg is None:
                    return "unknown"
                return apply_status(s, msg, sid, status, code, policy, ctx.units())

        done = await run_in_threadpool(record)
        log.info("sms_status", sid=sid, status=status, error_code=code, sms_id=sms_id, done=done)
        return Response(status_code=204)

    @r.post(INBOUND_PATH)
    async def inbound(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            return Response("invalid signature", status_code=403)
        sid, sender = str(form.get("MessageSid") or ""), str(form.get("From") or "")
        if not sid or not sender:
            return Response("MessageSid and From are required", status_code=400)
        if (refused := foreign(form)) is not None:
            return refused

        def record():
            with ctx.db.transaction() as s:
                return handle_inbound(s, message_sid=sid, from_phone=sender, to_phone=form.get("To"),
                                      body=str(form.get("Body") or ""), units=ctx.units(), templates=sms.templates)

        await run_in_threadpool(record)
        return Response(EMPTY_TWIML, media_type="text/xml")

    return r


def public_url(request: Request, public_base: Optional[str], configured_url: Optional[str] = None) -> str:
    """The URL the provider called, as it signed it: the configured callback URL, else `web.public_url` with
    this path, else the URL this request arrived on; with the request's query string."""
    query = request.url.query
    if configured_url:
        base = configured_url.split("?", 1)[0]
    elif public_base:
        base = public_base.rstrip("/") + request.url.path
    else:
        base = str(request.url.replace(query=""))
    return base + (f"?{query}" if query else "")
