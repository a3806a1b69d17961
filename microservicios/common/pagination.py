"""`limit`/`offset` query parameters, the same on every list endpoint."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from microservicios.common.fields import MAX_ID

MAX_LIMIT = 1000


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Máximo de resultados")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="Resultados a saltar")] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(page_params)]
