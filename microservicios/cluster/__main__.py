"""`python -m microservicios.cluster`: run the four services from a terminal until Ctrl-C."""

import argparse
import sys
import time
from pathlib import Path

from microservicios.cluster.cluster import Cluster, resolve_ports
from microservicios.cluster.processes import ProcessCluster
from microservicios.cluster.runner import ClusterError
from microservicios.common.cli import spanish_parser
from microservicios.common.registry import SERVICES, ServiceEntry, ServiceRegistry

DESCRIPTION = """\
Levanta el gateway y los servicios users, items y orders en 127.0.0.1.
Por defecto corren en hilos de este mismo proceso; con --processes, cada uno
en su propio proceso uvicorn. Ctrl-C los detiene a todos."""

EPILOG = """\
ejemplos:
  python -m microservicios.cluster
  python -m microservicios.cluster --ports auto
  python -m microservicios.cluster --ports gateway=9080,users=9001 --data-dir data/prueba
  python -m microservicios.cluster --processes
  python -m microservicios.cluster --service avisos=mis_servicios.avisos:create_app"""


def parse_ports(text: str | None) -> None | str | dict[str, int]:
    """'auto', or servicio=puerto pairs (the names are checked against the registry later)."""
    if text is None or text == "auto":
        return text
    ports: dict[str, int] = {}
    for pair in text.split(","):
        name, _, number = pair.partition("=")
        if not name.strip().isidentifier() or not number.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"'{pair}' no es válido: usá servicio=puerto, con servicio en "
                f"{list(SERVICES.names)} o uno agregado con --service."
            )
        ports[name.strip()] = int(number)
    return ports


def parse_service(text: str) -> ServiceEntry:
    """nombre=modulo:funcion, a service added to the registry for this run (lab 6)."""
    name, _, factory = text.partition("=")
    module, _, function = factory.partition(":")
    if not name.isidentifier() or not module or not function.isidentifier():
        raise argparse.ArgumentTypeError(
            f"'{text}' no es válido: usá nombre=modulo:funcion, por ejemplo "
            "notifications=labs.lab06_nuevo_servicio.notifications:create_app."
        )
    return ServiceEntry(name, factory)


def build_parser() -> argparse.ArgumentParser:
    parser = spanish_parser("python -m microservicios.cluster", DESCRIPTION, EPILOG)
    parser.add_argument(
        "--ports",
        type=parse_ports,
        default=None,
        help="'auto' para puertos libres, o servicio=puerto,... (por defecto 8080/8001/8002/8003)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path("data"), help="carpeta de las bases SQLite (data)"
    )
    parser.add_argument(
        "--processes", action="store_true", help="un proceso uvicorn por servicio, en vez de hilos"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no mostrar los logs JSON de los servicios"
    )
    parser.add_argument(
        "--service",
        type=parse_service,
        action="append",
        default=[],
        metavar="NOMBRE=MODULO:FUNCION",
        help="sumar un servicio más detrás del gateway (se puede repetir)",
    )
    return parser


def print_table(urls: dict[str, str]) -> None:
    print(f"{'Servicio':<10} {'URL':<26} Documentación")
    for name, url in urls.items():
        print(f"{name:<10} {url:<26} {url}/docs")
    print("\nCtrl-C para detener.", flush=True)


def wait_for_ctrl_c() -> None:
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    registry: ServiceRegistry = SERVICES.with_services(*args.service)
    try:
        if args.processes:
            cluster = ProcessCluster(
                resolve_ports(args.ports, registry),
                args.data_dir,
                quiet=args.quiet,
                registry=registry,
            )
            cluster.start()
            urls = {name: cluster.url(name) for name in registry.names}
        else:
            cluster = Cluster(
                ports=args.ports,
                data_dir=args.data_dir,
                echo_logs=not args.quiet,
                factories={entry.name: entry.factory for entry in args.service},
            )
            cluster.start()
            urls = cluster.urls()
    except ClusterError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print("Cluster en marcha" + (" (un proceso por servicio)" if args.processes else "") + ":\n")
    print_table(urls)
    try:
        wait_for_ctrl_c()
    finally:
        cluster.stop()
        print("Cluster detenido.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
