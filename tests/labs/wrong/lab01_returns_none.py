"""Laboratorio 1, mal: olvida el 404; si no hay usuario con ese email, devuelve None."""

from fastapi import APIRouter, Query
from sqlalchemy import select

from microservicios.common.db import SessionDep
from microservicios.users.models import User
from microservicios.users.schemas import UserRead

router = APIRouter(prefix="/users", tags=["usuarios"])


@router.get("/search", response_model=UserRead, summary="Buscar un usuario por email")
async def search_user(session: SessionDep, email: str = Query(min_length=3, max_length=320)):
    return session.scalar(select(User).where(User.email == email.strip().lower()))
