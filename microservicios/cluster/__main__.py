"""`python -m microservicios.cluster`: run the four services from a terminal until Ctrl-C."""

import argparse
import sys
import time
from pathlib import Path

from microservicios.cluster.cluster import Cluster, resolve_ports
from microservicios.cluster.processes import ProcessCluster
from microservicios.cluster.runner import ClusterError
from microservicios.common.cli import spanish_parser
from microservicios.common.settings import SERVICE_NAMES

DESCRIPTION = """\
Levanta el gateway y los servicios users, items y orders en 127.0.0.1.
Por defecto corren en hilos de este mismo proceso; con --processes, cada uno
en su propio proceso uvicorn. Ctrl-C los detiene a todos."""

EPILOG = """\
ejemplos:
  python -m microservicios.cluster
  python -m microservicios.cluster --ports auto
  python -m microservicios.cluster --ports gateway=9080,users=9001 --data-dir data/prueba
  python -m microservicios.cluster --processes"""


def parse_ports(text: str | None) -> None | str | dict[str, int]:
    if text is None or text == "auto":
        return text
    ports: dict[str, int] = {}
    for pair in text.split(","):
        name, _, number = pair.partition("=")
        if name.strip() not in SERVICE_NAMES or not number.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"'{pair}' no es válido: usá servicio=puerto, "
                f"con servicio en {list(SERVICE_NAMES)}."
            )
        ports[name.strip()] = int(number)
    return ports


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
    try:
        if args.processes:
            cluster = ProcessCluster(resolve_ports(args.ports), args.data_dir, quiet=args.quiet)
            cluster.start()
            urls = {name: cluster.url(name) for name in SERVICE_NAMES}
        else:
            cluster = Cluster(ports=args.ports, data_dir=args.data_dir, echo_logs=not args.quiet)
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
