"""HTTP: webhooks (SMS replies and delivery status, push intake, Open311) now, staff pages later.

One FastAPI application, built by `create_app`; run inside `onequeue run` or alone with `onequeue serve`.
"""
from web.app import WebContext, create_app, serve_in_thread

__all__ = ["WebContext", "create_app", "serve_in_thread"]
