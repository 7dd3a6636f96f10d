"""The FastAPI application and how it is served; each area adds its routes from its own module."""
from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

import structlog
import uvicorn
from fastapi import Depends, FastAPI

from dispatch import Dispatcher, UnitDirectory
from tickets.db import Database
from web import receive
from web.body_limit import BodyLimit

log = structlog.get_logger("web")

# Modules with `router(ctx: WebContext) -> fastapi.APIRouter`, mounted in this order.
# A module may also have `install(app: FastAPI)` for what a router cannot carry (mounts, exception handlers).
ROUTE_MODULES: tuple[str, ...] = ("web.health_routes", "web.intake_routes", "web.open311_routes", "web.sms_routes",
                                  "web.auth_routes", "web.queue_routes", "web.ticket_routes",
                                  "web.admin_users_routes", "web.walkin_routes", "web.admin_ops_routes",
                                  "web.admin_rules_routes", "web.attachment_routes", "web.station_routes",
                                  "web.progress_routes", "web.admin_gazetteer_routes", "web.stats_routes",
                                  "web.alerts_routes")


@dataclass
class WebContext:
    """What the routes need: the configuration, the database, and providers of what may change while the
    service runs. `dispatcher()` gives the dispatcher as the last hot reload of units.yaml and rules.yaml left it."""

    config: Any
    db: Database
    dispatcher: Callable[[], Dispatcher]

    def units(self) -> UnitDirectory:
        """The units directory as it is now."""
        return self.dispatcher().units


def serving(config, db: Database) -> WebContext:
    """The context for `onequeue serve`, the service alone: it follows edits of the units and rules files itself."""
    from dispatch.reload import RunningRules

    rules = RunningRules(config.path(config.units_file), config.path(config.rules_file))
    return WebContext(config, db, rules.current)


def create_app(ctx: WebContext) -> FastAPI:
    # The API's own description is for the demo: outside it, no page lists every route to an outsider.
    demo = ctx.config.demo.enabled
    app = FastAPI(title="onequeue", version="0.1.0", docs_url="/docs" if demo else None,
                  redoc_url="/redoc" if demo else None, openapi_url="/openapi.json" if demo else None,
                  dependencies=[Depends(receive.address_text)])
    app.state.ctx = ctx
    from tickets.attachments import MAX_PHOTOS

    photos = MAX_PHOTOS * ctx.config.station.photo_max_bytes + ctx.config.web.max_body_bytes  # and the form
    app.add_middleware(BodyLimit, max_body=ctx.config.web.max_body_bytes, max_upload=ctx.config.web.max_upload_bytes,
                       max_photos=photos)
    receive.install(app)   # a field the service cannot take is a 400 naming it, on every route
    for module in ROUTE_MODULES:
        mod = importlib.import_module(module)
        app.include_router(mod.router(ctx))
        if hasattr(mod, "install"):
            mod.install(app)
    return app


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the worker owns the process's signals
        pass


def serve_in_thread(app: FastAPI, host: str, port: int) -> tuple[_Server, threading.Thread]:
    """Start uvicorn in a daemon thread; returns once it accepts connections."""
    server = _Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.02)
    return server, thread


def serve_here(ctx: WebContext) -> tuple[_Server, str]:
    """Serve the application on `web.host` and `web.port` from a thread of this process; returns the server and
    the base URL it answers on, once it accepts connections."""
    web = ctx.config.web
    server, _ = serve_in_thread(create_app(ctx), web.host, web.port)
    url = web.base_url(bound_port(server))
    log.info("web_started", url=url)
    return server, url


def bound_port(server: _Server) -> Optional[int]:
    for s in server.servers:
        for sock in s.sockets:
            return sock.getsockname()[1]
    return None
