"""Who may use the panel: whoever holds its token, from the panel's own page.

The panel can kill services, so no other web page open in the student's browser may reach
it. Three locks, as Jupyter has: a random token in the URL the cluster prints (every
request, reading too, carries it); actions only from the panel's own origin; and a Host
header that must be the panel's address, so a foreign DNS name cannot point at it. And two
headers on every answer: no web site may frame the panel, nor learn its URL as a Referer.
"""

import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_HEADER = "X-Panel-Token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

# On every answer. The page is shown inside JupyterLab's (cluster.panel() is an IFrame in a
# page of another origin, http://localhost:8888 say). X-Frame-Options can only allow the
# panel's own origin, so it is not sent; CSP's frame-ancestors lets pages served on this
# machine frame the panel (JupyterLab, Jupyter Notebook, VS Code's notebook views) and no
# web site. The token travels in the URL: no Referer may carry it to anyone.
SECURITY_HEADERS = (
    (b"content-security-policy",
     b"frame-ancestors 'self' http://127.0.0.1:* http://localhost:* vscode-webview: "
     b"vscode-file:"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
)  # fmt: skip


class AccessDeniedError(Exception):
    """The request may not use the panel; the message says why, in Spanish."""


def new_token() -> str:
    return secrets.token_urlsafe(24)


class PanelAccess:
    def __init__(self, token: str, host: str, port: int) -> None:
        self.token = token
        self.host = host
        self.port = port

    def _allowed_hosts(self) -> set[str]:
        names = {self.host, *LOOPBACK_NAMES} if self.host in LOOPBACK_NAMES else {self.host}
        return {f"{name}:{self.port}" for name in names}

    def check_read(self, request: Request) -> None:
        """Any request: the right Host and the token (header, or `token` in the URL)."""
        if request.headers.get("host") not in self._allowed_hosts():
            raise AccessDeniedError("El panel sólo responde en su propia dirección.")
        given = request.headers.get(TOKEN_HEADER) or request.query_params.get("token") or ""
        if not given:
            raise AccessDeniedError(
                "Falta el token del panel: abrí la URL completa que imprimió el cluster "
                "(termina en ?token=...)."
            )
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            raise AccessDeniedError(
                "El token del panel no es válido: usá la URL que imprimió este cluster."
            )

    def check_action(self, request: Request) -> None:
        """An action: the token in its header (a page of another site cannot set it without
        asking first, and we never say yes), from a page of the panel's own origin."""
        self.check_read(request)
        if not request.headers.get(TOKEN_HEADER):
            raise AccessDeniedError(f"Las acciones llevan el token en la cabecera {TOKEN_HEADER}.")
        origin = request.headers.get("origin")
        if origin is not None and _host_port(origin) not in self._allowed_hosts():
            raise AccessDeniedError("Otra página web no puede usar el panel.")
        if request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
            raise AccessDeniedError("Otra página web no puede usar el panel.")


def _host_port(origin: str) -> str:
    parts = urlsplit(origin)
    return parts.netloc if parts.port else f"{parts.hostname}:{80}"


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every answer: pages, API, static files and refusals."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
