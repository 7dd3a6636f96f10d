"""What every back-office page stands on: the signed-in person (`current_user`), roles (`require_role`), the
CSRF check of posted forms (`form_user`), the session cookie and its flags, and the units directory."""
from __future__ import annotations

import secrets
from typing import Callable, Optional
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from accounts import SESSION_MAX, Viewer, session_viewer
from web.templating import STATIC, render

SESSION_COOKIE = "oq_session"
LOGIN_CSRF_COOKIE = "oq_login_csrf"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    def __init__(self, next_url: str):
        self.next_url = next_url


class PageForbidden(Exception):
    """A page or form refused; shown as a page that says why."""

    def __init__(self, message: str, status_code: int = 403):
        super().__init__(message)
        self.message, self.status_code = message, status_code


def units_of(ctx):
    """The units directory as the last reload of units.yaml left it."""
    return ctx.units()


def safe_next(value: Optional[str]) -> str:
    """Where to go after login: a path of this site only."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept)


def current_user(request: Request) -> Viewer:
    """The signed-in person; a page without a session redirects to /login?next=..., a JSON request gets 401."""
    ctx = request.app.state.ctx
    token = request.cookies.get(SESSION_COOKIE)
    viewer = None
    if token:
        with ctx.db.transaction() as s:
            viewer = session_viewer(s, token, units_of(ctx))
    if viewer is None:
        if _wants_json(request):
            raise HTTPException(status_code=401, detail="login required: sign in at /login")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    request.state.viewer = viewer
    return viewer


def require_role(role: str) -> Callable[..., Viewer]:
    """A dependency that lets through `role` and the roles above it (staff < lead < admin)."""

    def dependency(viewer: Viewer = Depends(current_user)) -> Viewer:
        if not viewer.has_role(role):
            raise PageForbidden(f"此页面需要{ROLE_NAMES.get(role, role)}权限。")
        return viewer

    return dependency


ROLE_NAMES = {"staff": "工作人员", "lead": "组长", "admin": "管理员"}
CSRF_REFUSED = "表单缺少有效的安全令牌（CSRF），已拒绝。请返回上一页，刷新后重新提交。"


async def form_user(request: Request, viewer: Viewer = Depends(current_user)) -> Viewer:
    """The signed-in person posting a form that carries their session's CSRF token; 403 otherwise."""
    form = await request.form()
    if not secrets.compare_digest(str(form.get(CSRF_FIELD) or ""), viewer.csrf_token):
        raise PageForbidden(CSRF_REFUSED)
    return viewer


def secure_cookies(ctx) -> bool:
    return (ctx.config.web.public_url or "").lower().startswith("https://")


def set_cookie(response: Response, ctx, name: str, value: str, max_age: int, path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="lax",
                        secure=secure_cookies(ctx))


def set_session_cookie(response: Response, ctx, token: str) -> None:
    set_cookie(response, ctx, SESSION_COOKIE, token, int(SESSION_MAX.total_seconds()))


def install(app: FastAPI) -> None:
    """Static files at /static, and the pages that a missing login or a refusal show."""
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='')}", status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden):
        return render(request, "error.html", status_code=exc.status_code, message=exc.message)
