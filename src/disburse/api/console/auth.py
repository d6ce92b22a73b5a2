"""Signing in and out, changing one's password, and choosing the language."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from disburse.access.user import CredentialsError, LockedError
from disburse.api.console.i18n import LANG_COOKIE, language
from disburse.api.console.web import (
    LOGIN_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    Viewer,
    check_csrf,
    gettext_for,
    local,
    redirect,
    render,
    state,
    viewer,
)
from disburse.domain.errors import DomainError
from disburse.domain.meta import Role

router = APIRouter(prefix=PREFIX, include_in_schema=False)
log = structlog.get_logger("disburse.console")
Signed = Annotated[Viewer, Depends(viewer)]
#: A year: the language is a preference, not a secret.
_LANG_AGE = 365 * 24 * 3600
#: Where each role starts.
HOME = {Role.FINANCE: "/payouts", Role.CLERK: "/payouts", Role.INSPECTOR: "/alerts"}


def _secure(request: Request) -> bool:
    """Cookies are Secure when the browser reached us over TLS (directly or via a proxy)."""
    return request.url.scheme == "https"


def _login_page(
    request: Request, *, then: str, username: str = "", problem: object = None, status: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    page = render(
        request,
        "login.html",
        status_code=status,
        csrf=token,
        then=then,
        username=username,
        problem=problem,
    )
    page.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path=f"{PREFIX}/login",
    )
    return page


@router.get("/login")
def login_form(request: Request, next: str = f"{PREFIX}/") -> HTMLResponse:  # noqa: A002
    """The sign-in form."""
    return _login_page(request, then=local(next))


@router.post("/login")
def log_in(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    totp: Annotated[str, Form(max_length=16)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = f"{PREFIX}/",  # noqa: A002
) -> Response:
    """Check the password (and one-time code); open a session in a cookie."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        problem = {"status": 403, "rule_id": "CSRF", "detail": _stale(request)}
        return _login_page(
            request, then=local(next), username=username, problem=problem, status=403
        )
    try:
        signed = state(request).users.sign_in(
            username.strip(),
            password,
            totp=totp.strip() or None,
            request_id=request.state.request_id,
        )
    except (CredentialsError, LockedError) as refused:
        # One answer for an unknown name, a wrong password or code, a disabled and a
        # locked account: a distinct "locked" would tell who has an account here.
        if isinstance(refused, LockedError):
            log.warning("console_sign_in_locked", username=username, until=str(refused.until))
        _ = gettext_for(request)
        problem = {
            "status": 401,
            "rule_id": "USER-CREDENTIALS",
            "detail": _(
                "The user name, password or code is not right, or the account is locked "
                "for a while after repeated failures. Ask an administrator if this goes on."
            ),
        }
        return _login_page(
            request, then=local(next), username=username, problem=problem, status=401
        )
    then = f"{PREFIX}/password" if signed.must_change_password else local(next)
    if then == f"{PREFIX}/" and signed.user.role in HOME:
        then = PREFIX + HOME[signed.user.role]
    response = redirect(then)
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path=PREFIX,
    )
    response.delete_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login")
    return response


def _stale(request: Request) -> str:
    _ = gettext_for(request)
    return _("The form had expired. Please sign in again.")


@router.post("/logout")
async def log_out(request: Request, who: Signed) -> RedirectResponse:
    """End the session, here and in the store."""
    form = await request.form()
    check_csrf(request, who, form)
    token = request.cookies.get(SESSION_COOKIE, "")
    state(request).users.sign_out(token, request_id=request.state.request_id)
    response = redirect(f"{PREFIX}/login")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/password")
def password_form(request: Request, who: Signed) -> HTMLResponse:
    """Choose a new password (required after an initial or reset one)."""
    return render(request, "password.html", who)


@router.post("/password")
async def change_password(request: Request, who: Signed) -> Response:
    """Change the password; the initial one must be changed before anything else."""
    form = await request.form()
    check_csrf(request, who, form)
    new = str(form.get("new_password") or "")
    again = str(form.get("confirm_password") or "")
    current = str(form.get("current_password") or "")
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        if again and again != new:
            problem = {
                "status": 422,
                "rule_id": "USER-PASSWORD-POLICY",
                "detail": _mismatch(request),
            }
            return render(request, "password.html", who, status_code=422, problem=problem)
        state(request).users.change_password(
            token, current=current or None, new=new, request_id=request.state.request_id
        )
    except DomainError as refused:
        problem = {"status": 422, "rule_id": refused.rule_id, "detail": str(refused)}
        return render(request, "password.html", who, status_code=422, problem=problem)
    return redirect(f"{PREFIX}/")


def _mismatch(request: Request) -> str:
    _ = gettext_for(request)
    return _("The two new passwords differ.")


@router.get("/lang/{code}")
def choose_language(request: Request, code: str, next: str = f"{PREFIX}/") -> RedirectResponse:  # noqa: A002
    """Keep the chosen language in a cookie and go back to the page."""
    response = redirect(local(next))
    response.set_cookie(
        LANG_COOKIE,
        language(code),
        max_age=_LANG_AGE,
        samesite="strict",
        secure=_secure(request),
        path=PREFIX,
    )
    return response


@router.get("/")
def home(request: Request, who: Signed) -> Response:
    """Each role's start page."""
    start = HOME.get(who.role)
    if start is not None:
        return redirect(PREFIX + start)
    return render(request, "home.html", who)
