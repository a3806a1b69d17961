"""Outgoing HTTP calls between services.

`ServiceClient` calls one target service through an app's shared aiohttp session
(keep-alive, one pool per app). It adds the service token and the request id,
applies a per-attempt timeout and turns transport failures into one error,
`ServiceUnavailableError`, with a reason a student can read.
"""

import json as jsonlib
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from microservicios.common.auth import add_service_auth
from microservicios.common.errors import ServiceUnavailableError
from microservicios.common.logs import EventLogger, request_id_var
from microservicios.common.middleware import REQUEST_ID_HEADER
from microservicios.common.settings import Settings


@dataclass(frozen=True)
class UpstreamResponse:
    """What a dependency answered: any status, headers as pairs, raw body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None


def create_http_session(settings: Settings) -> aiohttp.ClientSession:
    """One pooled session per app instance; must be created inside the app's event loop."""
    connector = aiohttp.TCPConnector(limit=200, enable_cleanup_closed=True)
    return aiohttp.ClientSession(
        connector=connector,
        # A gateway serves many clients: it must never keep one client's cookies for another.
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(
            total=settings.http_attempt_timeout, sock_connect=settings.http_connect_timeout
        ),
    )


class ServiceClient:
    """Calls one target service on behalf of one calling service."""

    def __init__(
        self,
        *,
        caller: str,
        target: str,
        base_url: str,
        session: aiohttp.ClientSession,
        secret: str,
        logger: EventLogger,
    ) -> None:
        self.caller = caller
        self.target = target
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._secret = secret
        self._logger = logger

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        headers: list[tuple[str, str]] | None = None,
        query: str = "",
    ) -> UpstreamResponse:
        """Send one request; any HTTP answer is returned, a transport failure raises."""
        # Already percent-encoded by the caller: yarl must not re-encode (or decode) it.
        url = URL(self.base_url + path + (f"?{query}" if query else ""), encoded=True)
        return await self._send(method, url, json=json, body=body, headers=headers)

    async def _send(
        self,
        method: str,
        url: URL,
        *,
        json: Any,
        body: bytes | None,
        headers: list[tuple[str, str]] | None,
    ) -> UpstreamResponse:
        outgoing = CIMultiDict(headers or [])
        request_id = request_id_var.get()
        if request_id and REQUEST_ID_HEADER not in outgoing:
            outgoing[REQUEST_ID_HEADER] = request_id
        outgoing.update(add_service_auth(None, self._secret))
        try:
            async with self._session.request(
                method, url, json=json, data=body, headers=outgoing, allow_redirects=False
            ) as response:
                payload = await response.read()
                return UpstreamResponse(
                    status=response.status,
                    headers=list(response.headers.items()),
                    body=payload,
                )
        except aiohttp.ClientConnectorError as exc:
            raise ServiceUnavailableError(self.target, "no acepta conexiones") from exc
        except TimeoutError as exc:
            raise ServiceUnavailableError(self.target, "no respondió a tiempo") from exc
        except aiohttp.ClientError as exc:
            raise ServiceUnavailableError(self.target, "cortó la conexión sin responder") from exc
