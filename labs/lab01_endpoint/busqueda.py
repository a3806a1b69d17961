"""Laboratorio 1: buscar un usuario por email, GET /users/search?email=…

Este router se agrega al servicio users antes que sus rutas propias: así /users/search
no se confunde con /users/{user_id} (FastAPI prueba las rutas en orden).

Completá `search_user` y comprobá con:  python -m microservicios.labs check 1
"""

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select  # noqa: F401  (lo vas a necesitar)

from microservicios.common.db import SessionDep
from microservicios.users.models import User  # noqa: F401  (lo vas a necesitar)
from microservicios.users.schemas import UserRead

router = APIRouter(prefix="/users", tags=["usuarios"])


@router.get("/search", response_model=UserRead, summary="Buscar un usuario por email")
async def search_user(session: SessionDep, email: str = Query(min_length=3, max_length=320)):
    # TODO 1: los emails se guardan en minúsculas: normalizá el que llega.
    # TODO 2: buscá el usuario con ese email.
    # TODO 3: si no existe, respondé 404 con un `detail` en castellano.
    raise HTTPException(status_code=501, detail="Todavía no implementado.")
