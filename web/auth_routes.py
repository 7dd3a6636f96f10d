"""GET/POST /login and POST /logout."""
from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from accounts import LoginThrottled, Viewer, authenticate, end_session, open_session
from web import page_auth
from web.page_auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, form_user, safe_next, set_cookie, set_session_cookie
from web.templating import render


def install(app) -> None:
    page_auth.install(app)


def router(ctx) -> APIRouter:
    r = APIRouter()

    def login_page(request: Request, next_url: str, status_code: int = 200, error: str = "", username: str = ""):
        token = secrets.token_urlsafe(24)
        request.state.csrf_token = token
        response = render(request, "login.html", status_code=status_code, next_url=safe_next(next_url),
                          error=error, username=username)
        set_cookie(response, ctx, LOGIN_CSRF_COOKIE, token, 3600, path="/login")
        return response

    @r.get("/login")
    def login_form(request: Request, next: str = "/"):
        return login_page(request, next)

    @r.post("/login")
    async def login(request: Request, username: str = Form(""), password: str = Form(""),
                    csrf_token: str = Form(""), next: str = Form("/")):
        expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not expected or not secrets.compare_digest(csrf_token, expected):
            raise page_auth.PageForbidden(page_auth.CSRF_REFUSED)
        client = request.client.host if request.client else "unknown"

        def check():
            with ctx.db.transaction() as s:
                user = authenticate(s, username, password, client)
                return open_session(s, user) if user else None

        try:
            token = await run_in_threadpool(check)
        except LoginThrottled as exc:
            return login_page(request, next, 429, f"登录失败次数过多，请 {exc.wait_seconds} 秒后再试。", username)
        if token is None:
            return login_page(request, next, 401, "用户名或密码不正确，或账号已停用。", username)
        response = RedirectResponse(safe_next(next), status_code=303)
        set_session_cookie(response, ctx, token)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @r.post("/logout")
    def logout(request: Request, viewer: Viewer = Depends(form_user)):
        with ctx.db.transaction() as s:
            end_session(s, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return r
