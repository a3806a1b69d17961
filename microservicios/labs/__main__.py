"""`python -m microservicios.labs`: list, check, hint, reset and watch the labs."""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from microservicios.common.cli import spanish_parser
from microservicios.labs.catalog import LABS, Lab, find_labs_dir, get_lab
from microservicios.labs.checking import Report, run_checks
from microservicios.labs.progress import Progress

WATCH_INTERVAL_S = 0.5

DESCRIPTION = """\
Los laboratorios: comprobá tu trabajo y pedí pistas.

  python -m microservicios.labs              lista los laboratorios y su estado
  python -m microservicios.labs check N      comprueba el laboratorio N (--file F: otro
                                             archivo, sin anotar tu progreso)
  python -m microservicios.labs hint N       muestra la próxima pista del laboratorio N
  python -m microservicios.labs reset N      vuelve el archivo del laboratorio N al original
  python -m microservicios.labs watch [N]    vuelve a comprobar cada vez que guardás
  python -m microservicios.labs verify       (autores) los iniciales fallan, las soluciones pasan
"""


def print_report(lab: Lab, report: Report) -> None:
    print(f"Laboratorio {lab.number} — {lab.title}")
    for description in report.passed:
        print(f"  ✔ {description}")
    if report.failed is not None:
        print(f"  ✘ {report.failed}")
        for line in report.explanation.splitlines():
            print(f"      {line}")
        pending = report.total - len(report.passed)
        print(f"\nTe faltan {pending} de {report.total} comprobaciones.")
        print(f"¿Trabado? Pedí una pista: python -m microservicios.labs hint {lab.number}")
    else:
        print(f"\n¡Listo! Las {report.total} comprobaciones pasan.")


def command_list(labs_dir: Path) -> int:
    progress = Progress(labs_dir)
    print(f"Laboratorios en {labs_dir}:\n")
    for lab in LABS:
        state = "hecho    " if lab.number in progress.done else "pendiente"
        print(f"  {lab.number}. [{state}] {lab.title}  ({lab.slug}/{lab.filename})")
    pending = [lab.number for lab in LABS if lab.number not in progress.done]
    if pending:
        print(f"\nSeguí con: python -m microservicios.labs check {pending[0]}")
    else:
        print("\n¡Terminaste todos los laboratorios!")
    return 0


def command_check(labs_dir: Path, lab: Lab, path: Path | None = None) -> int:
    """Check the student's file (and record the result) or, with `path`, another one
    (recorded nowhere: trying a classmate's file or a solution must not undo your lab)."""
    own_file = path is None
    path = path or lab.student_file(labs_dir)
    if not path.exists():
        print(
            f"No encuentro {path}. Si lo borraste: python -m microservicios.labs reset {lab.number}"
        )
        return 2
    report = run_checks(lab.checks, path)
    print_report(lab, report)
    if own_file:
        Progress(labs_dir).mark(lab.number, report.ok)
    else:
        print(f"(Comprobaste {path}: eso no cambia tu progreso en el laboratorio {lab.number}.)")
    return 0 if report.ok else 1


def command_hint(labs_dir: Path, lab: Lab) -> int:
    """The next hint; once all were seen, says so and shows the last one again."""
    index, all_seen = Progress(labs_dir).next_hint(lab.number, len(lab.hints))
    total = len(lab.hints)
    if not all_seen:
        print(f"Pista {index + 1} de {total} (laboratorio {lab.number}):\n")
        print(lab.hints[index])
        return 0
    print(
        f"Ya viste todas las pistas del laboratorio {lab.number} ({total} de {total}); "
        "no hay más. La última, otra vez:\n"
    )
    print(lab.hints[index])
    print(
        f"\nSi seguís trabado: python -m microservicios.labs check {lab.number} dice qué "
        "comprobación falla y por qué. La solución de referencia está en "
        f"{lab.solution_file(labs_dir)} (miralá después de intentarlo)."
    )
    return 0


def command_reset(labs_dir: Path, lab: Lab, assume_yes: bool) -> int:
    target = lab.student_file(labs_dir)
    if not assume_yes:
        try:
            answer = input(f"Esto borra tus cambios en {target}. ¿Seguro? [s/N] ")
        except EOFError:  # stdin is not a terminal (or is empty): nobody can answer
            print(
                "\nNo hay una terminal donde contestar, así que no se tocó nada. Si estás "
                f"seguro, usá: python -m microservicios.labs reset {lab.number} --yes"
            )
            return 1
        answer = answer.strip().lower()
        if answer not in ("s", "si", "sí"):
            print("No se tocó nada.")
            return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(lab.starter_file(), target)
    Progress(labs_dir).reset(lab.number)
    print(f"Listo: {target} volvió a su versión inicial.")
    return 0


def command_watch(labs_dir: Path, lab: Lab | None, max_checks: int | None = None) -> int:
    progress = Progress(labs_dir)
    lab = lab or next((lab for lab in LABS if lab.number not in progress.done), LABS[-1])
    path = lab.student_file(labs_dir)
    print(f"Mirando {path} (Ctrl-C para salir). Guardá el archivo para volver a comprobar.\n")
    last_seen, checks = None, 0
    try:
        while max_checks is None or checks < max_checks:
            stamp = path.stat().st_mtime_ns if path.exists() else None
            if stamp != last_seen:
                last_seen, checks = stamp, checks + 1
                command_check(labs_dir, lab)
                print("\n— esperando cambios —\n", flush=True)
            time.sleep(WATCH_INTERVAL_S)
    except KeyboardInterrupt:
        print("\nHasta luego.")
    return 0


def command_verify(labs_dir: Path) -> int:
    """Every starter must fail its checks and every solution must pass them."""
    problems = []
    for lab in LABS:
        starter = run_checks(lab.checks, lab.starter_file())
        solution = run_checks(lab.checks, lab.solution_file(labs_dir))
        print(
            f"Lab {lab.number}: inicial {'falla' if not starter.ok else 'PASA (mal)'} "
            f"en «{starter.failed}»; solución {'pasa' if solution.ok else 'FALLA (mal)'}"
        )
        if starter.ok:
            problems.append(f"lab {lab.number}: el archivo inicial pasa todas las comprobaciones")
        if not solution.ok:
            problems.append(
                f"lab {lab.number}: la solución falla en «{solution.failed}»: "
                f"{solution.explanation}"
            )
    for problem in problems:
        print(f"ERROR {problem}")
    print("verify: todo en orden." if not problems else f"verify: {len(problems)} problemas.")
    return 0 if not problems else 1


LAB_NUMBER_HELP = f"número del laboratorio, del 1 al {len(LABS)}"


def build_parser() -> argparse.ArgumentParser:
    parser = spanish_parser("python -m microservicios.labs", DESCRIPTION)
    parser.add_argument("--labs-dir", type=Path, help="carpeta labs/ (por defecto ./labs)")
    commands = parser.add_subparsers(dest="command", metavar="COMANDO")
    commands.add_parser("list", help="lista los laboratorios")
    for name, text in (("check", "comprueba"), ("hint", "pista para")):
        sub = commands.add_parser(name, help=f"{text} el laboratorio N")
        sub.add_argument("number", type=int, metavar="N", help=LAB_NUMBER_HELP)
    check = commands.choices["check"]
    check.add_argument(
        "--file",
        type=Path,
        help="comprobar otro archivo en vez del tuyo (no cambia tu progreso)",
    )
    reset = commands.add_parser("reset", help="vuelve el laboratorio N al archivo inicial")
    reset.add_argument("number", type=int, metavar="N", help=LAB_NUMBER_HELP)
    reset.add_argument("--yes", action="store_true", help="no preguntar")
    watch = commands.add_parser("watch", help="comprueba de nuevo al guardar")
    watch.add_argument("number", type=int, nargs="?", metavar="N", help=LAB_NUMBER_HELP)
    commands.add_parser("verify", help="(autores) iniciales fallan, soluciones pasan")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    labs_dir = args.labs_dir or find_labs_dir()
    number = getattr(args, "number", None)
    try:
        lab = get_lab(number) if number is not None else None
    except KeyError:
        print(f"No existe el laboratorio {number}: son del 1 al {len(LABS)}.")
        return 2
    if args.command in (None, "list"):
        return command_list(labs_dir)
    if args.command == "watch":
        return command_watch(labs_dir, lab)
    if args.command == "verify":
        return command_verify(labs_dir)
    assert lab is not None  # check, hint and reset take a lab's number (see build_parser)
    if args.command == "check":
        return command_check(labs_dir, lab, args.file)
    if args.command == "hint":
        return command_hint(labs_dir, lab)
    return command_reset(labs_dir, lab, args.yes)


def run() -> int:
    """main(), quiet when the reader of stdout has gone (`... | head -1`)."""
    try:
        try:
            return main()
        finally:
            sys.stdout.flush()  # a write that fails must fail here, not at interpreter exit
    except BrokenPipeError:
        # Python's documented recipe: nobody reads what is left, so send it to devnull
        # (or the final flush at exit fails again and prints a traceback).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(run())
