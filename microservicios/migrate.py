"""`python -m microservicios.migrate orders`: bring one service's database to the newest
schema, as a deployment step of its own (a Kubernetes Job, a compose one-shot)."""

import sys
from pathlib import Path

from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from microservicios.common.cli import spanish_parser
from microservicios.common.settings import Settings
from microservicios.database.advice import why_database_unusable
from microservicios.database.urls import UnsupportedDatabaseError
from microservicios.migrations import SERVICES_WITH_DATABASE, Upgrade, migrate
from microservicios.migrations.schema import head_revision
from microservicios.migrations.unversioned import UnversionedSchemaError

DESCRIPTION = """\
Aplica las migraciones de un servicio a su base de datos (la de <SERVICIO>_DATABASE_URL,
o su archivo SQLite en DATA_DIR), hasta la versión más nueva. Se puede correr las veces
que haga falta: lo que ya está aplicado no se vuelve a aplicar. Un archivo SQLite que creó
el cluster (sin migraciones) se marca en la versión más nueva si ya tiene su esquema."""


def main(argv: list[str] | None = None) -> int:
    parser = spanish_parser("python -m microservicios.migrate", DESCRIPTION)
    parser.add_argument("service", choices=SERVICES_WITH_DATABASE, metavar="SERVICIO",
                        help=f"cuál: {', '.join(SERVICES_WITH_DATABASE)}")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        url = Settings().database_url(args.service)
    except UnsupportedDatabaseError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    try:
        done = migrate(args.service, url)
    except CommandError as exc:
        print(f"Error: {refusal(args.service, exc)}", file=sys.stderr)
        return 1
    except UnversionedSchemaError:
        print(f"Error: {older_schema(args.service, url)}", file=sys.stderr)
        return 1
    except (SQLAlchemyError, OSError) as exc:
        print(f"Error: {failure(args.service, url, exc)}", file=sys.stderr)
        return 1
    print(report(args.service, done))
    return 0


def failure(service: str, url: str, exc: SQLAlchemyError | OSError) -> str:
    """A database that cannot be used, said as `why_database_unusable` says it; anything
    else (a migration that failed halfway) with the database's own words."""
    unusable = why_database_unusable(exc, url)
    if unusable is not None:
        sqlite = make_url(url).get_backend_name() == "sqlite"
        return (
            f"no se pudo {'abrir' if sqlite else 'conectar con'} la base de '{service}': {unusable}"
        )
    said = exc.args[0] if exc.args else exc
    return f"no se pudo migrar la base de '{service}': {type(exc).__name__}: {said}"


def older_schema(service: str, url: str) -> str:
    """Tables with no revision and not the code's schema: made before the migrations."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "").absolute()
        return (
            f"la base de datos de '{service}' ({path}) la creó una versión anterior del "
            "proyecto, sin migraciones, y su esquema no es el actual: empezá con una carpeta "
            "de datos nueva (--data-dir, o DATA_DIR, de una carpeta vacía) o mové ese archivo "
            "a otro lado; el servicio crea uno nuevo al arrancar."
        )
    return (
        f"la base de datos de '{service}' tiene sus tablas pero ninguna revisión registrada, y "
        "su esquema no es el actual (¿las creó una versión anterior del proyecto, o alguien a "
        f"mano?): apuntá {service.upper()}_DATABASE_URL a una base vacía."
    )


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


def report(service: str, done: Upgrade) -> str:
    """What the run did, in one line: the migrations it applied, from which revision to
    which; that it only recorded the revision of tables already current; or nothing."""
    head = head_revision(service)
    if done.marked:
        return (
            f"Base de datos de '{service}': ya tenía el esquema actual (la creó un servicio al "
            f"arrancar, como hace el cluster): la marqué en la revisión {head}, no hizo "
            "falta aplicar nada."
        )
    if not done.applied:
        return f"Base de datos de '{service}' ya estaba al día (revisión {head}): no apliqué nada."
    revisions = [script.revision for script in done.applied]
    what = (
        f"la migración {revisions[0]}"
        if len(revisions) == 1
        else f"las migraciones {', '.join(revisions[:-1])} y {revisions[-1]}"
    )
    before = done.applied[0].down_revision
    where = (
        f"estaba en la revisión {before}; ahora está en la"
        if before
        else "estaba vacía; ahora está en la revisión"
    )
    return f"Base de datos de '{service}': apliqué {what} ({where} {revisions[-1]})."


if __name__ == "__main__":
    sys.exit(main())
