"""A signed-in HTTP client of the back office for the benchmarks: the web application served by uvicorn on
loopback over a given database (default configuration otherwise), and an account of the command centre."""
from __future__ import annotations

import re
import secrets

import requests
from sqlalchemy import select

ADMIN = "bench-admin"


def logged_in_client(db_url: str) -> tuple[requests.Session, str]:
    """(a session signed in to a back office over `db_url`, the number of a ticket stored there)."""
    from accounts.users import add_user, get_user, set_password
    from settings.config_schema import load_config
    from tickets import Database, Ticket
    from web import create_app, serve_in_thread
    from web.app import bound_port, serving
    from web.parts import units_of

    config = load_config()
    config.database_url = db_url
    db = Database(db_url)
    ctx = serving(config, db)
    password = secrets.token_urlsafe(12)
    with db.transaction() as s:
        if get_user(s, ADMIN) is None:  # a kept database has it from an earlier run
            add_user(s, ADMIN, "性能测试", "sd-amr-consumer", "admin", password, units_of(ctx))
        else:
            set_password(s, ADMIN, password)
        number = s.scalars(select(Ticket.number).order_by(Ticket.id.desc()).limit(1)).one()
    server, _ = serve_in_thread(create_app(ctx), "127.0.0.1", 0)
    base = f"http://127.0.0.1:{bound_port(server)}"
    client = requests.Session()
    form = client.get(base + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = client.post(base + "/login", data={"username": ADMIN, "password": password, "csrf_token": token,
                                                  "next": "/"}, allow_redirects=False)
    if answer.status_code != 303:
        raise SystemExit(f"could not sign in: {answer.status_code}")
    client.base = base
    original = client.request
    client.request = lambda method, url, **kw: original(method, base + url if url.startswith("/") else url, **kw)
    return client, number
