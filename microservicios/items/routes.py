"""HTTP routes of the items service: public CRUD and token-protected internal routes."""

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response

from microservicios.common.fields import IdPath
from microservicios.common.headers import ETAG_HEADER, IF_MATCH_HEADER
from microservicios.common.openapi_errors import (
    INVALID,
    UNAUTHORIZED,
    UNAVAILABLE,
    conflict,
    invalid,
    not_found,
    precondition_failed,
    with_etag,
)
from microservicios.common.validation import invalid_request
from microservicios.common.web.deps import ContextDep, DbSessionDep, PageDep, ServiceAuth
from microservicios.items import crud, reservations
from microservicios.items.schemas import (
    MAX_STOCK,
    ItemCreate,
    ItemRead,
    ItemUpdate,
    ReleaseRequest,
    ReservationRead,
    ReserveRequest,
)
from microservicios.telemetry.events import (
    ITEM_CREATED,
    ITEM_NO_STOCK,
    ITEM_NOT_FOUND,
    STOCK_RELEASED,
    STOCK_RESERVED,
)

router = APIRouter(prefix="/items", tags=["ítems"], responses={**INVALID, **UNAVAILABLE})
internal = APIRouter(
    prefix="/items/internal",
    tags=["interno"],
    dependencies=[ServiceAuth],
    responses={**UNAUTHORIZED, **INVALID, **UNAVAILABLE},
)

NOT_FOUND = "Ítem no encontrado."
SKU_TAKEN = "Ya existe un ítem con ese SKU."
NO_SUCH_ITEM = not_found("No hay un ítem con ese id.")
SKU_IN_USE = conflict("El SKU ya es de otro ítem.")
SKU_IN_USE_OR_NO_ROOM = conflict(
    "El SKU ya es de otro ítem, o el stock pedido no deja lugar para las unidades reservadas "
    f"que pueden volver: stock y reservas juntos no pasan de {MAX_STOCK:_}.".replace("_", ".")
)
STALE = (
    "El ítem cambió desde que lo leíste (If-Match no es su ETag actual): pedilo de nuevo con "
    "GET y hacé tu cambio sobre lo que tiene ahora."
)


def no_room(reserved: int) -> str:
    return (
        f"Hay {reserved} unidades reservadas que pueden volver (si se cancelan sus órdenes): "
        f"el stock puede ser a lo sumo {MAX_STOCK - reserved}, así stock y reservas no pasan "
        f"de {MAX_STOCK}."
    )


IfMatch = Annotated[
    str | None,
    Header(
        alias=IF_MATCH_HEADER,
        description="El `ETag` del último GET de este ítem: el cambio se hace sólo si el ítem "
        "sigue igual; si cambió (otro PUT, una orden que reservó stock), 412 y no se cambia "
        "nada. Sin esta cabecera el cambio se hace igual, y puede pisar uno que no viste.",
    ),
]


@router.get("/", response_model=list[ItemRead], summary="Listar ítems")
async def list_items(session: DbSessionDep, page: PageDep):
    return await crud.list_items(session, limit=page.limit, offset=page.offset)


@router.post(
    "/", response_model=ItemRead, status_code=201, summary="Crear ítem", responses=SKU_IN_USE
)
async def create_item(data: ItemCreate, session: DbSessionDep, context: ContextDep):
    try:
        item = await crud.create_item(session, data=data)
    except crud.SkuTakenError:
        raise HTTPException(status_code=409, detail=SKU_TAKEN) from None
    context.logger.info(ITEM_CREATED, item_id=item.id, sku=item.sku)
    return item


@router.get(
    "/{item_id}",
    response_model=ItemRead,
    summary="Obtener ítem",
    responses={**with_etag(), **NO_SUCH_ITEM},
)
async def get_item(item_id: IdPath, session: DbSessionDep, response: Response):
    try:
        item = await crud.get_item(session, item_id=item_id)
    except crud.ItemNotFoundError:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from None
    response.headers[ETAG_HEADER] = crud.item_etag(item)
    return item


@router.put(
    "/{item_id}",
    response_model=ItemRead,
    summary="Actualizar ítem (parcial)",
    description="Cambia sólo los campos que mandes. Con `If-Match` (el `ETag` de tu GET), "
    "sólo si nadie cambió el ítem desde que lo leíste.",
    responses={
        **with_etag(),
        **NO_SUCH_ITEM,
        **SKU_IN_USE_OR_NO_ROOM,
        **precondition_failed("El ítem cambió desde el GET cuyo ETag mandaste en If-Match."),
    },
)
async def update_item(
    item_id: IdPath,
    data: ItemUpdate,
    session: DbSessionDep,
    response: Response,
    if_match: IfMatch = None,
):
    try:
        item = await crud.update_item(session, item_id=item_id, data=data, if_match=if_match)
    except crud.ItemNotFoundError:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from None
    except crud.SkuTakenError:
        raise HTTPException(status_code=409, detail=SKU_TAKEN) from None
    except crud.StaleItemError:
        raise HTTPException(status_code=412, detail=STALE) from None
    except crud.NoRoomForReservedError as exc:
        raise HTTPException(status_code=409, detail=no_room(exc.reserved)) from None
    response.headers[ETAG_HEADER] = crud.item_etag(item)
    return item


@router.delete("/{item_id}", status_code=204, summary="Eliminar ítem", responses=NO_SUCH_ITEM)
async def delete_item(item_id: IdPath, session: DbSessionDep) -> Response:
    try:
        await crud.delete_item(session, item_id=item_id)
    except crud.ItemNotFoundError:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from None
    return Response(status_code=204)


@internal.post(
    "/reserve",
    response_model=ReservationRead,
    summary="Reservar stock (interno)",
    responses={
        **not_found("No hay un ítem con ese SKU."),
        **conflict("No hay stock suficiente, o esa reserva ya fue liberada."),
        **invalid("Datos no válidos, o ese reservation_id ya se usó con otro SKU o cantidad."),
    },
)
async def reserve_stock(data: ReserveRequest, session: DbSessionDep, context: ContextDep):
    logger = context.logger
    try:
        reservation = await reservations.reserve(
            session, reservation_id=data.reservation_id, sku=data.sku, qty=data.qty
        )
    except crud.ItemNotFoundError:
        logger.info(ITEM_NOT_FOUND, sku=data.sku)
        raise HTTPException(
            status_code=404, detail=f"No existe un ítem con SKU '{data.sku}'."
        ) from None
    except reservations.OutOfStockError:
        logger.info(ITEM_NO_STOCK, sku=data.sku, qty=data.qty)
        raise HTTPException(
            status_code=409,
            detail=f"No hay stock suficiente de '{data.sku}' para {data.qty} unidades.",
        ) from None
    except reservations.ReservationMismatchError:
        raise invalid_request(
            ("body", "reservation_id"), "ya se usó con otro SKU o cantidad", "reservation_mismatch"
        ) from None
    except reservations.ReservationReleasedError:
        raise HTTPException(status_code=409, detail="Esa reserva ya fue liberada.") from None
    logger.info(STOCK_RESERVED, reservation_id=reservation.id, sku=data.sku, qty=data.qty)
    return reservation


@internal.post("/release", response_model=ReservationRead, summary="Liberar una reserva (interno)")
async def release_stock(data: ReleaseRequest, session: DbSessionDep, context: ContextDep):
    reservation = await reservations.release(session, reservation_id=data.reservation_id)
    context.logger.info(STOCK_RELEASED, reservation_id=reservation.id, qty=reservation.qty)
    return reservation
