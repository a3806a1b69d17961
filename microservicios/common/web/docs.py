"""`/docs` that works offline: Swagger UI served from the installed package, not a CDN.

On a classroom network that blocks CDNs, FastAPI's default `/docs` is a blank page. The
assets come from `fastapi-offline` (a PyPI package that ships Swagger UI 5's files, which
read OpenAPI 3.1 as FastAPI writes it), mounted at `/docs/assets`; the page itself is
FastAPI's, pointed at them.

The page's route is one module-level function that reads the app from the request, not a
closure over the app: FastAPI caches facts about every endpoint function it has seen (an
`lru_cache` of 4,096 in `fastapi.dependencies.models`), and a closure would keep each
killed app of a cluster alive, with its engine and event loop, revive after revive.
"""

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI_FILES = files("fastapi_offline") / "static"
DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"


def serve_offline_docs(app: FastAPI) -> None:
    """Add `/docs` (and its assets) to an app built with `docs_url=None, redoc_url=None`."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(SWAGGER_UI_FILES)), name="docs-assets")
    app.add_api_route(DOCS_PATH, docs_page, methods=["GET"], include_in_schema=False)


async def docs_page(request: Request) -> HTMLResponse:
    """Swagger UI for the app that received the request."""
    app: FastAPI = request.app
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} — documentación",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
    )
