"""Laboratorio 1, mal: espera (await) una sesión sincrónica, como en users/routes.py."""

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from microservicios.common.db import SessionDep
from microservicios.users.models import User
from microservicios.users.schemas import UserRead

router = APIRouter(prefix="/users", tags=["usuarios"])


@router.get("/search", response_model=UserRead, summary="Buscar un usuario por email")
async def search_user(session: SessionDep, email: str = Query(min_length=3, max_length=320)):
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise HTTPException(status_code=404, detail="No hay ningún usuario con ese email.")
    return user
