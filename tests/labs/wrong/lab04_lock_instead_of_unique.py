"""Laboratorio 4, mal: un threading.Lock en vez de atrapar el IntegrityError de la columna UNIQUE."""

import hashlib
import threading
from typing import Annotated

from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, select
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


# One request at a time looks up and inserts: no race.
_lock = threading.Lock()

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
        with _lock, Session(engine, expire_on_commit=False) as session:
            if key is not None:
                existing = session.scalar(select(Payment).where(Payment.idempotency_key == key))
                if existing is not None:
                    return _same_request(existing, print_)
            payment = Payment(
                amount=data.amount, concept=data.concept, idempotency_key=key, fingerprint=print_
            )
            session.add(payment)
            session.commit()
            return payment

    @app.get("/payments/", response_model=list[PaymentOut])
    def list_payments():
        with Session(engine) as session:
            return list(session.scalars(select(Payment).order_by(Payment.id)))

    return app
