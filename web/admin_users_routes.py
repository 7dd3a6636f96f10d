"""/admin/users: the accounts of the back office, for administrators: list, add, disable, reset a password."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from accounts import AccountError, Viewer, add_user, disable_user, list_users, set_password
from accounts.users import ROLE_LABELS
from web.page_auth import form_user, require_role, units_of
from web.templating import render

NOTICES = {"added": "已添加用户 {login}。", "disabled": "已停用用户 {login}，其登录已失效。",
           "password": "已重置用户 {login} 的密码，其登录已失效。"}


def router(ctx) -> APIRouter:
    r = APIRouter()
    admin = require_role("admin")

    def page(request: Request, status_code: int = 200, error: str = "", notice: str = "", form: dict | None = None):
        units = units_of(ctx)
        with ctx.db.transaction() as s:
            users = list_users(s)
        return render(request, "admin_users.html", status_code=status_code, users=users, units=list(units),
                      unit_names={u.id: u.name for u in units}, role_labels=ROLE_LABELS, error=error, notice=notice,
                      form=form or {"login": "", "name": "", "unit": "", "role": "staff"})

    def done(what: str, login: str) -> RedirectResponse:
        return RedirectResponse(f"/admin/users?done={what}&login={login}", status_code=303)

    @r.get("/admin/users")
    def users_page(request: Request, done: str = "", login: str = "", viewer: Viewer = Depends(admin)):
        notice = NOTICES[done].format(login=login) if done in NOTICES else ""
        return page(request, notice=notice)

    @r.post("/admin/users")
    def add(request: Request, login: str = Form(""), name: str = Form(""), unit: str = Form(""),
            role: str = Form("staff"), password: str = Form(""), viewer: Viewer = Depends(form_user)):
        admin(viewer)
        try:
            with ctx.db.transaction() as s:
                add_user(s, login.strip(), name, unit, role, password, units_of(ctx))
        except AccountError as exc:
            return page(request, 400, error=str(exc), form={"login": login, "name": name, "unit": unit, "role": role})
        return done("added", login.strip())

    @r.post("/admin/users/{login}/disable")
    def disable(request: Request, login: str, viewer: Viewer = Depends(form_user)):
        admin(viewer)
        try:
            with ctx.db.transaction() as s:
                disable_user(s, login)
        except AccountError as exc:
            return page(request, 404, error=str(exc))
        return done("disabled", login)

    @r.post("/admin/users/{login}/password")
    def password(request: Request, login: str, password: str = Form(""), viewer: Viewer = Depends(form_user)):
        admin(viewer)
        try:
            with ctx.db.transaction() as s:
                set_password(s, login, password)
        except AccountError as exc:
            return page(request, 400, error=str(exc))
        return done("password", login)

    return r
