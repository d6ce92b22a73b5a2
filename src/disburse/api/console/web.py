"""What every console page shares: the signed-in viewer, templates, CSRF and headers.

A console user signs in with a password and gets a server-side session (the store keeps
it, so every ``serve`` worker knows it); the browser holds only the session's token, in
an HttpOnly, SameSite=Strict cookie. Each request turns the session into the same
``Principal`` an API key yields, so the console's role and region rules are the API's.
Every form carries the session's CSRF token; pages carry a Content-Security-Policy that
allows only this server's own scripts and styles (htmx is served from here: county
networks are often offline).
"""

from __future__ import annotations

import contextlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote
from uuid import UUID

import structlog
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from disburse.access.users import context_of
from disburse.api.console.i18n import LANG_COOKIE, N_, language, translations
from disburse.api.problems import ApiError, status_of
from disburse.api.security import Principal, require_role
from disburse.domain.errors import DomainError
from disburse.domain.meta import Role
from disburse.domain.text import TextKind, clean_text
from disburse.readside.runner import ViewLagError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from disburse.access.users import ActiveSession
    from disburse.api.state import ApiState

log = structlog.get_logger("disburse.console")
HERE = Path(__file__).parent
PREFIX = "/console"
SESSION_COOKIE = "disburse_session"
#: Before sign-in there is no session: the sign-in form's CSRF token is a cookie's twin.
LOGIN_COOKIE = "disburse_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: Set on every page as it is rendered too: a refusal answered outside the console's own
#: middleware (a body too large, a server error) still carries them.
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
#: Problem titles by HTTP status, as the console words them (message ids).
TITLES = {
    400: N_("The request could not be read"),
    401: N_("Sign-in refused"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Conflict: someone changed it first"),
    412: N_("Changed since you opened it"),
    413: N_("Too large"),
    422: N_("Refused by a rule"),
    423: N_("Account locked"),
    500: N_("Something went wrong on our side"),
    503: N_("The views are catching up: try again in a moment"),
}


class ConsoleHeaders:
    """Security headers on every console response (pages, redirects, errors, static)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        static = str(scope["path"]).startswith(f"{PREFIX}/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [(name, value) for name, value in HEADERS if name not in present]
                if not static and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def yuan(fen: int | None) -> str:
    """Fen as yuan with two decimals and thousands separators, by integer arithmetic."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def when(value: datetime | str | None) -> str:
    """A moment as ``YYYY-MM-DD HH:MM`` UTC (times in the ledger are UTC)."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["yuan"] = yuan
ENV.filters["when"] = when


def state(request: Request) -> ApiState:
    """The process's shared state."""
    found: ApiState = request.app.state.disburse
    return found


def lang_of(request: Request) -> str:
    """The language the browser chose (cookie), else Simplified Chinese."""
    return language(request.cookies.get(LANG_COOKIE))


def gettext_for(request: Request) -> Callable[[str], str]:
    """The request's translation function."""
    return translations(lang_of(request)).gettext


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of this request, as a principal the API's rules accept."""

    principal: Principal
    session: ActiveSession

    @property
    def username(self) -> str:
        """The user's name."""
        return self.session.user.username

    @property
    def role(self) -> Role:
        """The user's role."""
        return self.principal.role

    @property
    def csrf(self) -> str:
        """The token every form of this session carries."""
        return self.session.csrf_token


class SignInRequiredError(Exception):
    """No live session: the browser is sent to sign in (or, ``first``, somewhere first)."""

    def __init__(self, then: str, *, first: str | None = None) -> None:
        super().__init__("sign in first")
        self.then = then
        self.first = first


def local(path: str) -> str:
    """A path inside the console to return to after sign-in (never another site)."""
    if path.startswith(f"{PREFIX}/") and not path.startswith("//") and "\\" not in path:
        return path
    return f"{PREFIX}/"


def viewer(request: Request) -> Viewer:
    """The signed-in user behind the session cookie; otherwise off to sign in.

    A disabled user's session ends at once: ``Users.session`` checks the account on
    every request. A user who must change the initial password may open nothing else.
    """
    token = request.cookies.get(SESSION_COOKIE)
    users = state(request).users
    session = users.session(token, request_id=request.state.request_id) if token else None
    then = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if session is None:
        raise SignInRequiredError(local(then))
    if session.must_change_password and request.url.path not in {
        f"{PREFIX}/password",
        f"{PREFIX}/logout",
    }:
        raise SignInRequiredError(then, first=f"{PREFIX}/password")
    ctx = context_of(session.user, request.state.request_id)
    principal = Principal(
        client_id=ctx.client_id,
        client_name=ctx.client_id,
        role=session.user.role,
        region=session.user.region_code,
        actor_id=ctx.actor_id,
        request_id=request.state.request_id,
        # The console vouches for its users as a gateway does: each user is a principal
        # of its own (``console/<username>``) for maker-checker.
        gateway=True,
    )
    request.state.principal = principal
    return Viewer(principal, session)


def require(found: Viewer, *roles: Role) -> None:
    """The API's role check (403, ROLE-FORBIDDEN), shown as a console page."""
    require_role(found.principal, frozenset(roles))


def check_csrf(request: Request, found: Viewer, form: Mapping[str, Any]) -> None:
    """Refuse (403, CSRF) a form without this session's token (field or header)."""
    given = str(form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or "")
    if not hmac.compare_digest(given.encode(), found.csrf.encode()):
        log.warning("csrf_refused", actor=found.principal.actor_id, path=request.url.path)
        raise ApiError(403, "CSRF", "the form is stale or forged: reload the page and try again")


def text(value: object, kind: TextKind, field: str) -> str:
    """A form or query value as ledger text (NFC, trimmed), or 422 TEXT-INVALID naming it.

    The console calls services and the API's route functions directly, past the API's
    request models, so it checks text as those models would.
    """
    return clean_text(str(value or "").strip(), kind=kind, field=field)


def uuid_of(value: str, field: str) -> UUID:
    """An id from a form or query value, or 422 REQUEST-SCHEMA naming the field."""
    try:
        return UUID(value)
    except ValueError:
        refuse(422, "REQUEST-SCHEMA", f"{field} is not an id", field=field)


def problem_of(error: DomainError | ApiError) -> dict[str, object]:
    """A refusal as the pages show it, with the HTTP status the API would give it."""
    if isinstance(error, ApiError):
        return {"status": error.status_code, "rule_id": error.rule_id, "detail": error.detail}
    return {"status": status_of(error), "rule_id": error.rule_id, "detail": str(error)}


def refuse(status: int, rule_id: str, detail: str, field: str | None = None) -> NoReturn:
    """Stop the request with a refusal page."""
    raise ApiError(status, rule_id, detail, field=field)


def render(
    request: Request,
    template: str,
    who: Viewer | None = None,
    *,
    status_code: int = 200,
    **values: Any,  # noqa: ANN401 - whatever the template shows
) -> HTMLResponse:
    """A page in the browser's language, with the viewer's name, role and CSRF token."""
    lang = lang_of(request)
    gettext = translations(lang).gettext
    page = ENV.get_template(template).render(
        _=gettext,
        lang=lang,
        viewer=who,
        csrf=who.csrf if who is not None else values.pop("csrf", ""),
        path=request.url.path,
        here=quote(request.url.path + (f"?{request.url.query}" if request.url.query else "")),
        title_of=lambda status: gettext(TITLES.get(status, N_("Refused"))),
        Role=Role,
        **values,
    )
    return HTMLResponse(page, status_code=status_code, headers=dict(PAGE_HEADERS))


def redirect(to: str) -> RedirectResponse:
    """After a form: see the result with a GET (303)."""
    return RedirectResponse(to, status_code=303)


def ids(values: Iterable[str]) -> list[str]:
    """Non-empty form values, in order, without repeats."""
    return list(dict.fromkeys(v for v in values if v))


def settle(request: Request, *views: str) -> None:
    """Read-your-writes: let the named views take in what this request wrote.

    For at most ``read_wait_seconds``: a slow view shows the command's result later.
    """
    shared = state(request)
    written = shared.ledger.store.last_written()
    if written:
        with contextlib.suppress(ViewLagError):
            shared.views.wait_for(written, timeout=shared.settings.read_wait_seconds, names=views)
