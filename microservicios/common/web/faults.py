"""Fault injection as every app applies it: the middleware that makes requests slow, fail
or go unanswered, and the token-protected route `PUT /internal/faults` that sets them
(`common/faults.py` holds the faults themselves and the injector)."""

from fastapi import APIRouter
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from microservicios.common.faults import FAULTS_PATH, Faults
from microservicios.common.openapi_errors import INVALID, UNAUTHORIZED
from microservicios.common.web.deps import InjectorDep, ServiceAuth
from microservicios.common.web.request_head import request_context


class FaultMiddleware:
    """Applies the app's current faults to every request except the control route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == FAULTS_PATH:
            await self.app(scope, receive, send)
            return
        injector = request_context(scope).faults
        faults = injector.current
        if faults.active:
            # RequestGuard, in front, has already taken the whole request in, as a slow
            # server would: a client that gives up during the delay does not stop the work
            # from being done afterwards.
            if injector.should_drop(faults):
                # Not a closed connection, which would tell the client at once. Once healed
                # (or after MAX_HANG_SECONDS) the request goes on, like a TCP retransmission
                # that gets through after the client gave up.
                await injector.wait_while_dropping()
            delay = injector.delay(faults)
            if delay:
                await injector.sleep(delay)
            if faults.hang:
                await injector.wait_while_hung()
            if injector.should_fail(faults):
                detail = f"Falla inyectada a propósito (error_rate={faults.error_rate})."
                response = JSONResponse({"detail": detail}, status_code=faults.status)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


router = APIRouter(
    prefix=FAULTS_PATH, tags=["interno"], dependencies=[ServiceAuth], responses=UNAUTHORIZED
)


@router.get("", response_model=Faults, summary="Fallas inyectadas ahora (interno)")
async def get_faults(injector: InjectorDep) -> Faults:
    return injector.current


@router.put("", response_model=Faults, summary="Inyectar fallas (interno)", responses=INVALID)
async def put_faults(faults: Faults, injector: InjectorDep) -> Faults:
    return injector.inject(faults)


@router.delete("", response_model=Faults, summary="Quitar las fallas (interno)")
async def delete_faults(injector: InjectorDep) -> Faults:
    return injector.heal()
