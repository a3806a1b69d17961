"""Laboratorio 6, mal: las rutas guardan en una base propia, no en la de la app."""

from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from microservicios.common.db import create_sqlite_engine
from microservicios.common.pagination import PageDep
from microservicios.common.service_app import build_app
from microservicios.common.settings import Settings

SERVICE = "notifications"


class Base(DeclarativeBase):
    pass


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int]
    message: Mapped[str] = mapped_column(String(500))


def open_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = create_sqlite_engine(url)
    Base.metadata.create_all(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)


class NotificationIn(BaseModel):
    user_id: int = Field(ge=1)
    message: str = Field(min_length=1, max_length=500)


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    message: str


router = APIRouter(prefix="/notifications", tags=["notificaciones"])


# Las rutas abren sesiones de una base propia, fija, armada a mano ("sqlite://", en
# memoria), no de la que build_app abre con la url de settings (SessionDep).
OWN_ENGINE, OWN_SESSIONS = open_database("sqlite://")


@router.get("/", response_model=list[NotificationOut], summary="Listar notificaciones")
async def list_notifications(page: PageDep):
    query = select(Notification).order_by(Notification.id).limit(page.limit).offset(page.offset)
    with OWN_SESSIONS() as session:
        return list(session.scalars(query))


@router.post("/", response_model=NotificationOut, status_code=201, summary="Crear notificación")
async def create_notification(data: NotificationIn):
    notification = Notification(user_id=data.user_id, message=data.message)
    with OWN_SESSIONS() as session:
        session.add(notification)
        session.commit()
    return notification


def create_app(settings: Settings | None = None, **options: Any) -> FastAPI:
    app = build_app(
        service=SERVICE,
        title="Notifications Service",
        description="Notificaciones para los usuarios (laboratorio 6).",
        settings=settings or Settings(),
        open_database=open_database,
        **options,
    )
    app.include_router(router)
    return app
