"""Path parameters for database ids, bounded so no id can overflow SQLite."""

from typing import Annotated

from fastapi import Path

from microservicios.common.pagination import MAX_ID

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
