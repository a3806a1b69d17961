"""HTTP routes of the orders service."""

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response

from microservicios.common.fields import IdPath
from microservicios.common.headers import (
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENT_REPLAYED_HEADER,
    RETRY_AFTER_HEADER,
)
from microservicios.common.openapi_errors import INVALID, UNAVAILABLE, conflict, invalid, not_found
from microservicios.common.validation import invalid_request
from microservicios.common.web.deps import DbSessionDep, PageDep
from microservicios.orders import crud, remote
from microservicios.orders.context import SagaDep
from microservicios.orders.saga import IdempotencyKeyMismatchError, OrderInProgressError
from microservicios.orders.schemas import OrderCreate, OrderRead

router = APIRouter(prefix="/orders", tags=["órdenes"], responses={**INVALID, **UNAVAILABLE})

NOT_FOUND = "Orden no encontrada."
NO_SUCH_ORDER = not_found("No hay una orden con ese id.")
REPLAYED = {
    IDEMPOTENT_REPLAYED_HEADER: {
        "description": "`true` si la orden ya existía con esa Idempotency-Key (no se creó otra).",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_KEY_HEADER,
        min_length=1,
        max_length=255,
        description="Si repetís la petición con la misma clave, recibís la misma orden.",
    ),
]


@router.get("/", response_model=list[OrderRead], summary="Listar órdenes")
async def list_orders(session: DbSessionDep, page: PageDep):
    return await crud.list_orders(session, limit=page.limit, offset=page.offset)


@router.get(
    "/{order_id}", response_model=OrderRead, summary="Obtener orden", responses=NO_SUCH_ORDER
)
async def get_order(order_id: IdPath, session: DbSessionDep):
    try:
        return await crud.get_order(session, order_id=order_id)
    except crud.OrderNotFoundError:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from None


@router.post(
    "/",
    response_model=OrderRead,
    status_code=201,
    summary="Crear orden",
    description=(
        "Verifica el usuario (users), reserva el stock (items) y confirma la orden. "
        "Con la cabecera Idempotency-Key, repetir la petición no crea otra orden."
    ),
    responses={
        201: {
            "description": "La orden creada (o la que ya existía con esa clave).",
            "headers": REPLAYED,
        },
        **not_found("No existe el usuario, o no hay un ítem con ese SKU."),
        **conflict(
            "No hay stock suficiente, u otra petición con esa Idempotency-Key todavía se está "
            "procesando (reintentá después de `Retry-After`).",
            retry_after=True,
        ),
        **invalid("Datos no válidos, o esa Idempotency-Key ya se usó con otros datos."),
    },
)
async def create_order(
    data: OrderCreate, saga: SagaDep, response: Response, key: IdempotencyKey = None
):
    try:
        order, replayed = await saga.place(data, key)
    except remote.UserNotFoundError:
        raise HTTPException(404, detail=f"No existe el usuario {data.user_id}.") from None
    except remote.SkuNotFoundError:
        raise HTTPException(404, detail=f"No existe un ítem con SKU '{data.item_sku}'.") from None
    except remote.NotEnoughStockError:
        raise HTTPException(
            409, detail=f"No hay stock suficiente de '{data.item_sku}' para {data.qty} unidades."
        ) from None
    except IdempotencyKeyMismatchError:
        raise invalid_request(
            ("header", IDEMPOTENCY_KEY_HEADER),
            "ya se usó con otros datos: usá una clave nueva",
            "idempotency_key_reused",
        ) from None
    except crud.OrderNoLongerPendingError:
        raise HTTPException(
            503,
            detail="La orden tardó demasiado y se anuló (su stock se devuelve): reintentá.",
            headers={RETRY_AFTER_HEADER: "1"},
        ) from None
    except OrderInProgressError:
        raise HTTPException(
            409,
            detail="Otra petición con esa Idempotency-Key todavía se está procesando.",
            headers={RETRY_AFTER_HEADER: "1"},
        ) from None
    if replayed:
        response.headers[IDEMPOTENT_REPLAYED_HEADER] = "true"
    return order


@router.post(
    "/{order_id}/cancel",
    response_model=OrderRead,
    summary="Cancelar orden",
    responses={**NO_SUCH_ORDER, **conflict("Sólo se puede cancelar una orden CREATED.")},
)
async def cancel_order(order_id: IdPath, saga: SagaDep):
    try:
        return await saga.cancel(order_id)
    except crud.OrderNotFoundError:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from None
    except crud.NotCancellableError as exc:
        raise HTTPException(
            409, detail=f"Sólo se puede cancelar una orden CREATED (esta está {exc.status})."
        ) from None
