"""Trailing-slash redirects whose Location is a path on this server, never a full URL.

Starlette's own (`redirect_slashes`) builds an absolute URL from the Host header, which
the client writes: `GET /health/` with `Host: evil.example` was sent to
`http://evil.example/health`, an open redirect. A relative Location (RFC 9110 §10.2.2)
keeps the client on whatever host it used.
"""

from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import Receive, Scope, Send

# RFC 3986: what may stay as it is in a path (pchar plus "/") and in a query ("%" too,
# since the query arrives already encoded); everything else is percent-encoded.
_PATH_SAFE = "/-._~!$&'()*+,;=:@"
_QUERY_SAFE = _PATH_SAFE + "?%"


def relative_location(path: str, query: bytes = b"") -> str:
    """A Location for the decoded `path` and the raw `query`; starts with exactly one "/"."""
    # "//evil.example/x" would be a network-path reference: another host again.
    location = "/" + quote(path, safe=_PATH_SAFE).lstrip("/")
    return f"{location}?{quote(query, safe=_QUERY_SAFE)}" if query else location


class SlashRedirect:
    """A router's fallback: if the path with (or without) its trailing slash matches a
    route, redirect there with a relative Location; otherwise the router's usual 404."""

    def __init__(self, router: Router) -> None:
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            other = {**scope, "path": path.rstrip("/") if path.endswith("/") else path + "/"}
            if any(route.matches(other)[0] is not Match.NONE for route in self.router.routes):
                location = relative_location(other["path"], scope.get("query_string", b""))
                await RedirectResponse(location)(scope, receive, send)
                return
        await self.router.not_found(scope, receive, send)


def use_relative_slash_redirects(router: Router) -> None:
    """Replace Starlette's slash redirects on `router` with `SlashRedirect`."""
    router.redirect_slashes = False
    router.default = SlashRedirect(router)
