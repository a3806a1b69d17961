"""What lab code imports for a SQLite database of its own: `create_sqlite_engine` and
`SessionDep`.

Their homes are `database/sqlite.py` and `common/web/deps.py`; this name stays because the
labs import them from here.
"""

from microservicios.common.web.deps import SessionDep
from microservicios.database.sqlite import create_sqlite_engine

__all__ = ["SessionDep", "create_sqlite_engine"]
