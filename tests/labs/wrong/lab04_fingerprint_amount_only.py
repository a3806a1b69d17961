"""Laboratorio 4, mal: la huella mira sólo el importe (otro concepto cuenta como reintento)."""

import hashlib
from typing import Annotated

from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
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
    return hashlib.sha256(str(data.amount).encode()).hexdigest()


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


def _same_request(existing: Payment, print_: str) -> Payment:
    if existing.fingerprint != print_:
        raise HTTPException(422, detail="Esa Idempotency-Key ya se usó con otros datos.")
    return existing


def create_app(database_url: str) -> FastAPI:
    engine = create_sqlite_engine(database_url)
    Base.metadata.create_all(engine)
    app = FastAPI(title="Pagos (laboratorio 4)")

    @app.post("/payments/", response_model=PaymentOut, status_code=201)
    def pay(data: PaymentIn, key: IdempotencyKey = None):
        print_ = fingerprint(data)
        with Session(engine, expire_on_commit=False) as session:
            if key is not None:
                existing = session.scalar(select(Payment).where(Payment.idempotency_key == key))
                if existing is not None:
                    return _same_request(existing, print_)
            payment = Payment(
                amount=data.amount, concept=data.concept, idempotency_key=key, fingerprint=print_
            )
            session.add(payment)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                winner = session.scalar(select(Payment).where(Payment.idempotency_key == key))
                return _same_request(winner, print_)
            return payment

    @app.get("/payments/", response_model=list[PaymentOut])
    def list_payments():
        with Session(engine) as session:
            return list(session.scalars(select(Payment).order_by(Payment.id)))

    return app
