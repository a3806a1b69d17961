"""HTTP routes of the users service: parse, call crud, map domain errors to statuses."""

from fastapi import APIRouter, HTTPException, Response

from microservicios.common.fields import IdPath
from microservicios.common.openapi_errors import INVALID, UNAVAILABLE, conflict, not_found
from microservicios.common.web.deps import ContextDep, DbSessionDep, PageDep
from microservicios.telemetry.events import USER_CREATED, USER_DELETED
from microservicios.users import crud
from microservicios.users.schemas import UserCreate, UserRead, UserUpdate

router = APIRouter(prefix="/users", tags=["usuarios"], responses={**INVALID, **UNAVAILABLE})

NOT_FOUND = "Usuario no encontrado."
EMAIL_TAKEN = "Ya existe un usuario con ese email."
NO_SUCH_USER = not_found("No hay un usuario con ese id.")
EMAIL_IN_USE = conflict("El email ya es de otro usuario.")


@router.get("/", response_model=list[UserRead], summary="Listar usuarios")
async def list_users(session: DbSessionDep, page: PageDep):
    return await crud.list_users(session, limit=page.limit, offset=page.offset)


@router.post(
    "/", response_model=UserRead, status_code=201, summary="Crear usuario", responses=EMAIL_IN_USE
)
async def create_user(data: UserCreate, session: DbSessionDep, context: ContextDep):
    try:
        user = await crud.create_user(session, data=data)
    except crud.EmailTakenError:
        raise HTTPException(status_code=409, detail=EMAIL_TAKEN) from None
    context.logger.info(USER_CREATED, user_id=user.id)
    return user


@router.get(
    "/{user_id}", response_model=UserRead, summary="Obtener usuario", responses=NO_SUCH_USER
)
async def get_user(user_id: IdPath, session: DbSessionDep):
    try:
        return await crud.get_user(session, user_id=user_id)
    except crud.UserNotFoundError:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from None


@router.put(
    "/{user_id}",
    response_model=UserRead,
    summary="Actualizar usuario (parcial)",
    responses={**NO_SUCH_USER, **EMAIL_IN_USE},
)
async def update_user(user_id: IdPath, data: UserUpdate, session: DbSessionDep):
    try:
        return await crud.update_user(session, user_id=user_id, data=data)
    except crud.UserNotFoundError:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from None
    except crud.EmailTakenError:
        raise HTTPException(status_code=409, detail=EMAIL_TAKEN) from None


@router.delete("/{user_id}", status_code=204, summary="Eliminar usuario", responses=NO_SUCH_USER)
async def delete_user(user_id: IdPath, session: DbSessionDep, context: ContextDep) -> Response:
    try:
        await crud.delete_user(session, user_id=user_id)
    except crud.UserNotFoundError:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from None
    context.logger.info(USER_DELETED, user_id=user_id)
    return Response(status_code=204)
