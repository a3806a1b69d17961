"""`python -m microservicios.migrate orders`: bring one service's database to the newest
schema, as a deployment step of its own (a Kubernetes Job, a compose one-shot)."""

import sys

from alembic.script import Script
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from microservicios.common.cli import spanish_parser
from microservicios.common.database_url import UnsupportedDatabaseError
from microservicios.common.settings import Settings
from microservicios.migrations import SERVICES_WITH_DATABASE, upgrade
from microservicios.migrations.schema import head_revision

DESCRIPTION = """\
Aplica las migraciones de un servicio a su base de datos (la de <SERVICIO>_DATABASE_URL,
o su archivo SQLite en DATA_DIR), hasta la versión más nueva. Se puede correr las veces
que haga falta: lo que ya está aplicado no se vuelve a aplicar."""


def main(argv: list[str] | None = None) -> int:
    parser = spanish_parser("python -m microservicios.migrate", DESCRIPTION)
    parser.add_argument("service", choices=SERVICES_WITH_DATABASE, metavar="SERVICIO",
                        help=f"cuál: {', '.join(SERVICES_WITH_DATABASE)}")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        url = Settings().database_url(args.service)
        applied = upgrade(args.service, url)
    except UnsupportedDatabaseError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except CommandError as exc:
        print(f"Error: {refusal(args.service, exc)}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(
            f"Error: no se pudo migrar la base de '{args.service}': {type(exc).__name__}: "
            f"{exc.args[0] if exc.args else exc}",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        print(f"Error: no se pudo conectar con la base de '{args.service}': {exc}", file=sys.stderr)
        return 1
    print(report(args.service, applied))
    return 0


def refusal(service: str, exc: CommandError) -> str:
    """Why Alembic refused, in Spanish: most often the database is at a revision this code
    does not know, one that a newer version of the project applied."""
    cause = exc.__cause__
    if isinstance(cause, ResolutionError) and cause.argument:
        return (
            f"la base de datos de '{service}' está en la revisión '{cause.argument}', que este "
            f"código no conoce (su historia llega hasta la {head_revision(service)}): ¿la migró "
            "una versión más nueva del proyecto? Corré migrate con esa versión, o apuntá "
            f"{service.upper()}_DATABASE_URL a otra base."
        )
    return f"no se pudo migrar la base de '{service}': {exc}"


def report(service: str, applied: list[Script]) -> str:
    """What the run did: the migrations it applied, from which revision to which; or that
    there was nothing to do."""
    if not applied:
        return (
            f"Base de datos de '{service}' ya estaba al día (revisión "
            f"{head_revision(service)}): no apliqué nada."
        )
    before = applied[0].down_revision or "(vacía)"
    lines = [f"Base de datos de '{service}' migrada de {before} a {applied[-1].revision}. Apliqué:"]
    lines += [f"  {script.revision} {script.doc}" for script in applied]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
