"""Laboratorio 4: un endpoint de pagos idempotente, con la cabecera Idempotency-Key.

Cobrar dos veces porque el cliente reintentó es el error que este laboratorio evita. Reglas:
- Sin Idempotency-Key, cada POST es un pago nuevo.
- Con una clave nueva, se cobra y se guarda la clave junto al pago.
- Con una clave ya usada y los MISMOS datos, se devuelve el pago original (no se cobra).
- Con una clave ya usada y OTROS datos, 422: es un error del cliente.
- Aunque lleguen 20 peticiones iguales a la vez, se cobra una sola vez.

La ruta es `def` (no `async def`): FastAPI la corre en varios hilos a la vez, así que las
carreras son reales. Completá los TODO y comprobá con:  python -m microservicios.labs check 4
"""

import hashlib
from typing import Annotated

from fastapi import FastAPI, Header, HTTPException  # noqa: F401  (HTTPException: la vas a usar)
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError  # noqa: F401  (la vas a usar)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from microservicios.common.db import create_sqlite_engine


class Base(DeclarativeBase):
    pass


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[int]
    concept: Mapped[str] = mapped_column(String(100))
    # `unique=True`: la base de datos misma impide dos pagos con la misma clave.
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64))


class PaymentIn(BaseModel):
    amount: int = Field(gt=0, le=1_000_000)
    concept: str = Field(min_length=1, max_length=100)


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    amount: int
    concept: str


def fingerprint(data: PaymentIn) -> str:
    """Huella de los datos: misma huella = misma petición."""
    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


def create_app(database_url: str) -> FastAPI:
    engine = create_sqlite_engine(database_url)
    Base.metadata.create_all(engine)
    app = FastAPI(title="Pagos (laboratorio 4)")

    @app.post("/payments/", response_model=PaymentOut, status_code=201)
    def pay(data: PaymentIn, key: IdempotencyKey = None):
        with Session(engine, expire_on_commit=False) as session:
            # TODO 1: si hay clave, buscá un pago con esa clave. Si existe: misma huella →
            #         devolvelo; otra huella → HTTPException(422, detail en castellano).
            # TODO 2: guardá el pago con la clave y la huella.
            # TODO 3: si el commit falla con IntegrityError, otra petición con la misma clave
            #         ganó la carrera: rollback y devolvé ese pago (comparando la huella).
            payment = Payment(amount=data.amount, concept=data.concept)
            session.add(payment)
            session.commit()
            return payment

    @app.get("/payments/", response_model=list[PaymentOut])
    def list_payments():
        with Session(engine) as session:
            return list(session.scalars(select(Payment).order_by(Payment.id)))

    return app
