"""`limit`/`offset` query parameters, the same on every list endpoint: `PageDep`.

Its home is `common/web/deps.py`, with the other dependencies; this name stays because the
labs import it from here.
"""

from microservicios.common.web.deps import MAX_LIMIT, Page, PageDep, page_params

__all__ = ["MAX_LIMIT", "Page", "PageDep", "page_params"]
