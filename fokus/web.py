"""HTTP routes beside Streamlit (served by `server.py` through `st.App`): the session cookie.

Streamlit has no API to set a cookie, and a cookie set by JavaScript cannot be HttpOnly. So
after a login on the Streamlit page, the page asks the browser to POST a one-time ticket here
(valid 60 seconds, usable once); this route answers with the session token in a cookie that
is HttpOnly (no script can read it), SameSite=Strict (no other site can send it) and Secure
behind HTTPS. On a reload, Streamlit reads the cookie (`st.context.cookies`) and resumes the
session, which the server checks against its own table of sessions (`fokus.auth.resume`).
"""

from __future__ import annotations

import secrets
import threading
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COOKIE = "fokus_session"
TICKET_SECONDS = 60

_tickets: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


def issue_ticket(token: str) -> str:
    """A one-time ticket that the browser exchanges for the cookie holding `token`."""
    ticket = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for old, (_, expires) in list(_tickets.items()):
            if expires < now:
                del _tickets[old]
        _tickets[ticket] = (token, now + TICKET_SECONDS)
    return ticket


def redeem_ticket(ticket: str) -> str | None:
    with _lock:
        found = _tickets.pop(ticket, None)
    if found is None or found[1] < time.monotonic():
        return None
    return found[0]


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or origin.split("://", 1)[-1] == request.headers.get("host")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


async def session_cookie(request: Request) -> Response:
    if not _same_origin(request):
        return Response(status_code=403)
    form = await request.form()
    token = redeem_ticket(str(form.get("ticket", "")))
    if token is None:
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/")
    return response


async def clear_cookie(request: Request) -> Response:
    if not _same_origin(request):
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


ROUTES = [
    Route("/_fokus/session", session_cookie, methods=["POST"]),
    Route("/_fokus/logout", clear_cookie, methods=["POST"]),
]
