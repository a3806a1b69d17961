"""Where the start table says the cluster's data is: the folder of its SQLite files, or, as
soon as one service's database is elsewhere (PostgreSQL), each service's own."""

from collections.abc import Iterable
from pathlib import Path

from microservicios.common.registry import GATEWAY
from microservicios.common.settings import Settings
from microservicios.database.urls import shown_database


def data_location(data_dir: Path, services: Iterable[str]) -> str:
    """«Datos en: /ruta/absoluta» when every service keeps its SQLite file in `data_dir`;
    otherwise «Datos en:» and a line per service: its file, or its PostgreSQL URL with the
    password hidden."""
    settings = Settings(data_dir=data_dir)  # what the services read: the environment, .env
    with_database = [name for name in services if name != GATEWAY]
    if not any(getattr(settings, f"{name}_database_url", None) for name in with_database):
        return f"Datos en: {data_dir.resolve()}"
    width = max(len(name) for name in with_database)
    rows = [
        f"  {name:<{width}}  {shown_database(settings.database_url(name))}"
        for name in with_database
    ]
    return "\n".join(["Datos en:", *rows])
