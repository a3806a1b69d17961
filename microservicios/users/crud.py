"""Operations on users. Domain errors are raised here and mapped to HTTP in the routes."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microservicios.users.models import User
from microservicios.users.schemas import UserCreate, UserUpdate


class UserNotFoundError(Exception):
    pass


class EmailTakenError(Exception):
    pass


def list_users(session: Session, *, limit: int, offset: int) -> list[User]:
    query = select(User).order_by(User.id).limit(limit).offset(offset)
    return list(session.scalars(query))


def get_user(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFoundError(user_id)
    return user


def create_user(session: Session, *, data: UserCreate) -> User:
    user = User(name=data.name, email=data.email)
    session.add(user)
    _commit_or_email_taken(session)
    return user


def update_user(session: Session, *, user_id: int, data: UserUpdate) -> User:
    user = get_user(session, user_id=user_id)
    for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(user, field, value)
    _commit_or_email_taken(session)
    return user


def delete_user(session: Session, *, user_id: int) -> None:
    user = get_user(session, user_id=user_id)
    session.delete(user)
    session.commit()


def _commit_or_email_taken(session: Session) -> None:
    # The unique index decides, so two racing requests cannot both take one address.
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise EmailTakenError from exc
