"""What `python -m microservicios.cluster` checks before it starts anything: the options
whose mistakes would otherwise surface as a traceback from inside a service's start (one
per service, in threads mode and in each `--processes` child)."""

import errno
import importlib
import tempfile
import traceback
from pathlib import Path

from pydantic import ValidationError

from microservicios.common.registry import ServiceEntry, ServiceRegistry
from microservicios.common.settings import Settings
from microservicios.serve.errors import ClusterError

# The operating system's texts are in English (and differ per system): say them here.
WRITE_REFUSALS = {
    errno.EACCES: "no hay permiso",
    errno.EPERM: "no hay permiso",
    errno.EROFS: "el disco es de sólo lectura",
    errno.ENOSPC: "el disco está lleno",
}


def uses_data_dir(registry: ServiceRegistry, data_dir: Path) -> bool:
    """True if some service keeps its SQLite file in `data_dir` (not all on PostgreSQL)."""
    try:
        settings = Settings(data_dir=data_dir)  # what the services read: environment, .env
    except ValidationError:
        return True  # a bad setting is reported where the cluster builds its settings
    return any(settings.database_url(name).startswith("sqlite") for name in registry.backends)


def check_data_dir(data_dir: Path) -> None:
    """Refuse a --data-dir where the services could not create their SQLite files, without
    creating anything (the services make the folder themselves, private)."""
    refused = f"--data-dir {data_dir} no sirve"
    try:
        existing = data_dir
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent  # the folder that the services' mkdir would start from
        if not existing.is_dir():
            raise ClusterError(
                f"{refused}: {existing} es un archivo, no una carpeta. Elegí una carpeta (se "
                "crea si no existe)."
            )
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as exc:
        reason = WRITE_REFUSALS.get(exc.errno or 0, f"el sistema lo rechazó (error {exc.errno})")
        raise ClusterError(
            f"{refused}: no se pueden guardar archivos en {existing} ({reason}). "
            "Elegí una carpeta tuya (se crea si no existe)."
        ) from None


def check_factory(entry: ServiceEntry) -> None:
    """Refuse a --service whose module cannot be imported or whose factory is not a function,
    in one line that names what is missing (a lab 6 student's most likely mistakes)."""
    if not isinstance(entry.factory, str):
        return
    refused = f"--service {entry.name}={entry.factory}"
    module_name, _, function_name = entry.factory.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and f"{module_name}.".startswith(f"{exc.name}."):
            raise ClusterError(
                f"{refused}: no se encontró el módulo '{module_name}' (se busca desde la "
                f"carpeta en la que corrés el comando, {Path.cwd()})."
            ) from None
        raise ClusterError(
            f"{refused}: el módulo '{module_name}' no pudo importar '{exc.name}', que no está "
            "instalado o no existe."
        ) from None
    except SyntaxError as exc:
        raise ClusterError(
            f"{refused}: el módulo '{module_name}' tiene un error de sintaxis en "
            f"{exc.filename}, línea {exc.lineno}."
        ) from None
    except Exception as exc:  # the module's own code failed: where, and what it raised
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raise ClusterError(
            f"{refused}: importar el módulo '{module_name}' falló en {where.filename}, línea "
            f"{where.lineno}: {type(exc).__name__}: {exc}"
        ) from None
    factory = getattr(module, function_name, None)
    if factory is None:
        raise ClusterError(
            f"{refused}: el módulo '{module_name}' no tiene '{function_name}' "
            f"(la función que arma la app, como create_app)."
        )
    if not callable(factory):
        raise ClusterError(
            f"{refused}: '{entry.factory}' no es una función, es un {type(factory).__name__}."
        )
