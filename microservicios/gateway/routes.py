"""Routes the gateway answers itself; everything under a service name is proxied."""

from fastapi import APIRouter

router = APIRouter(tags=["gateway"])


@router.get("/", summary="Saludo del gateway")
async def root() -> dict[str, str]:
    return {"message": "Gateway listo"}
