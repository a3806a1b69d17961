"""Which services exist: one registry read by the cluster (threads and `--processes`), the
gateway's routing table, the settings' default URLs and lab 6.

A service is a name, a factory `create_app(settings, **options)` and a classic port. The
factory is named by its import path ("package.module:function"), so a child process
started with uvicorn can build it too (a function object also works in threads mode, as
lab 6's checker does); the gateway routes `/<name>/...` to it.
"""

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

GATEWAY = "gateway"
AppFactory = Callable[..., Any]  # create_app(settings, **options) -> FastAPI


@dataclass(frozen=True)
class ServiceEntry:
    """One service: its name, its factory's import path and its classic port (0: any)."""

    name: str
    factory: str | AppFactory  # "package.module:function", or the function itself
    port: int = 0

    @property
    def prefix(self) -> str:
        """The path prefix the gateway forwards to this service."""
        return f"/{self.name}"

    @property
    def import_path(self) -> str:
        """Where another process finds the factory (ValueError if it cannot)."""
        return self.factory if isinstance(self.factory, str) else import_path(self.factory)

    def load_factory(self) -> AppFactory:
        if not isinstance(self.factory, str):
            return self.factory
        module_name, _, function_name = self.factory.partition(":")
        return getattr(importlib.import_module(module_name), function_name)


def import_path(factory: AppFactory) -> str:
    """The "module:function" path of a top-level function; a Spanish error otherwise."""
    qualname = getattr(factory, "__qualname__", "")
    module = getattr(factory, "__module__", None)
    if not module or not qualname or "<" in qualname or "." in qualname:
        raise ValueError(
            f"La fábrica {factory!r} tiene que ser una función definida al nivel de un módulo "
            "(como create_app), para que otro proceso pueda importarla."
        )
    return f"{module}:{qualname}"


class ServiceRegistry:
    """An unchangeable set of services, in start order: the gateway last."""

    def __init__(self, entries: Iterable[ServiceEntry]) -> None:
        by_name = {entry.name: entry for entry in entries}
        ordered = [e for n, e in by_name.items() if n != GATEWAY]
        ordered += [by_name[GATEWAY]] if GATEWAY in by_name else []
        self._entries = MappingProxyType({entry.name: entry for entry in ordered})

    def __iter__(self) -> Iterator[ServiceEntry]:
        return iter(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __getitem__(self, name: str) -> ServiceEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"Servicio desconocido: '{name}'. Válidos: {list(self.names)}."
            ) from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    @property
    def backends(self) -> tuple[str, ...]:
        """The services behind the gateway."""
        return tuple(name for name in self._entries if name != GATEWAY)

    def classic_ports(self) -> dict[str, int]:
        return {entry.name: entry.port for entry in self}

    def with_services(self, *entries: ServiceEntry) -> "ServiceRegistry":
        """A new registry with `entries` added (or replacing ones with the same name)."""
        return ServiceRegistry([*self, *entries])

    def with_factories(self, factories: dict[str, str | AppFactory]) -> "ServiceRegistry":
        """A new registry where each named service is built by the given factory; a known
        service keeps its classic port, a new one gets any free port."""
        return self.with_services(
            *(
                ServiceEntry(name, factory, self._entries[name].port if name in self else 0)
                for name, factory in factories.items()
            )
        )


SERVICES = ServiceRegistry(
    [
        ServiceEntry("users", "microservicios.users.main:create_app", 8001),
        ServiceEntry("items", "microservicios.items.main:create_app", 8002),
        ServiceEntry("orders", "microservicios.orders.main:create_app", 8003),
        ServiceEntry(GATEWAY, "microservicios.gateway.main:create_app", 8080),
    ]
)
