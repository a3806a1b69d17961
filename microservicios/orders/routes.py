"""HTTP routes of the orders service."""

from fastapi import APIRouter, HTTPException, Request

from microservicios.common.db import SessionDep
from microservicios.common.ids import IdPath
from microservicios.common.pagination import PageDep
from microservicios.orders import crud, remote, service
from microservicios.orders.schemas import OrderCreate, OrderRead

router = APIRouter(prefix="/orders", tags=["órdenes"])


@router.get("/", response_model=list[OrderRead], summary="Listar órdenes")
async def list_orders(session: SessionDep, page: PageDep):
    return crud.list_orders(session, limit=page.limit, offset=page.offset)


@router.get("/{order_id}", response_model=OrderRead, summary="Obtener orden")
async def get_order(order_id: IdPath, session: SessionDep):
    try:
        return crud.get_order(session, order_id=order_id)
    except crud.OrderNotFoundError:
        raise HTTPException(status_code=404, detail="Orden no encontrada.") from None


@router.post(
    "/",
    response_model=OrderRead,
    status_code=201,
    summary="Crear orden",
    description="Verifica el usuario (users), reserva el stock (items) y guarda la orden.",
)
async def create_order(data: OrderCreate, request: Request):
    try:
        return await service.place_order(request.app, data)
    except remote.UserNotFoundError:
        raise HTTPException(404, detail=f"No existe el usuario {data.user_id}.") from None
    except remote.SkuNotFoundError:
        raise HTTPException(404, detail=f"No existe un ítem con SKU '{data.item_sku}'.") from None
    except remote.NotEnoughStockError:
        raise HTTPException(
            409, detail=f"No hay stock suficiente de '{data.item_sku}' para {data.qty} unidades."
        ) from None
