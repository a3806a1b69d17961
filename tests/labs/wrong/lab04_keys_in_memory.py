"""Laboratorio 4, mal: las claves se guardan en un dict del proceso, no en la base."""

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


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


def create_app(database_url: str) -> FastAPI:
    engine = create_sqlite_engine(database_url)
    Base.metadata.create_all(engine)
    app = FastAPI(title="Pagos (laboratorio 4)")
    seen: dict[str, tuple[str, int]] = {}  # Idempotency-Key -> (fingerprint, payment id)
    lock = threading.Lock()

    @app.post("/payments/", response_model=PaymentOut, status_code=201)
    def pay(data: PaymentIn, key: IdempotencyKey = None):
        print_ = fingerprint(data)
        with lock, Session(engine, expire_on_commit=False) as session:
            if key is not None and key in seen:
                seen_print, payment_id = seen[key]
                if seen_print != print_:
                    raise HTTPException(
                        422, detail="Esa Idempotency-Key ya se usó con otros datos."
                    )
                return session.get(Payment, payment_id)
            payment = Payment(amount=data.amount, concept=data.concept, fingerprint=print_)
            session.add(payment)
            session.commit()
            if key is not None:
                seen[key] = (print_, payment.id)
            return payment

    @app.get("/payments/", response_model=list[PaymentOut])
    def list_payments():
        with Session(engine) as session:
            return list(session.scalars(select(Payment).order_by(Payment.id)))

    return app
