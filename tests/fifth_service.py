"""A fifth service for the registry tests: receipts, which calls orders.

Built like lab 6 says: a `create_app(settings, **options)` made with `build_app`, plugged in
with `Cluster(factories=...)` or `python -m microservicios.cluster --service ...`.
"""

from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException

from microservicios.common.fields import IdPath
from microservicios.common.service_app import build_app
from microservicios.common.settings import Settings
from microservicios.common.web.deps import ContextDep

router = APIRouter(prefix="/receipts", tags=["recibos"])


@router.get("/{order_id}", summary="Recibo de una orden")
async def receipt(order_id: IdPath, context: ContextDep) -> dict[str, Any]:
    answer = await context.clients["orders"].request("GET", f"/orders/{order_id}")
    if answer.status != 200:
        raise HTTPException(answer.status, detail=answer.json()["detail"])
    order = answer.json()
    return {"order_id": order["id"], "status": order["status"], "qty": order["qty"]}


def create_app(settings: Settings | None = None, **options: Any) -> FastAPI:
    app = build_app(
        service="receipts",
        title="Receipts Service",
        description="Recibos de las órdenes (servicio de prueba).",
        settings=settings or Settings(),
        dependencies=("orders",),
        **options,
    )
    app.include_router(router)
    return app
