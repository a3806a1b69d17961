"""Operations on users. Domain errors are raised here and mapped to HTTP in the routes."""

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from microservicios.database.sessions import DbSession
from microservicios.users.models import User
from microservicios.users.schemas import UserCreate, UserUpdate

# Every order reads its user with this statement: it is built once, and each call sends
# only the id (bindparam). `session.get` would look in the session first, which is always
# empty here (one session per request), and cost about 50 Python calls more.
USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


class UserNotFoundError(Exception):
    pass


class EmailTakenError(Exception):
    pass


async def list_users(session: DbSession, *, limit: int, offset: int) -> list[User]:
    query = select(User).order_by(User.id).limit(limit).offset(offset)
    return list(await session.scalars(query))


async def get_user(session: DbSession, *, user_id: int) -> User:
    user = await session.scalar(USER_BY_ID, {"user_id": user_id})
    if user is None:
        raise UserNotFoundError(user_id)
    return user


async def create_user(session: DbSession, *, data: UserCreate) -> User:
    user = User(name=data.name, email=data.email)
    session.add(user)
    await _commit_or_email_taken(session)
    return user


async def update_user(session: DbSession, *, user_id: int, data: UserUpdate) -> User:
    user = await get_user(session, user_id=user_id)
    for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(user, field, value)
    await _commit_or_email_taken(session)
    return user


async def delete_user(session: DbSession, *, user_id: int) -> None:
    user = await get_user(session, user_id=user_id)
    await session.delete(user)
    await session.commit()


async def _commit_or_email_taken(session: DbSession) -> None:
    # The unique index decides, so two racing requests cannot both take one address.
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise EmailTakenError from exc
