"""A student's lab file as a module, for notebooks and scripts: `load(3).CircuitBreaker`."""

from types import ModuleType

from microservicios.labs.catalog import LABS, find_labs_dir, get_lab
from microservicios.labs.checking import load_module


def load(number: int) -> ModuleType:
    """Import lab `number`'s file afresh, from the labs folder the checker uses, from any cwd."""
    try:
        lab = get_lab(number)
    except KeyError:
        numbers = ", ".join(str(lab.number) for lab in LABS)
        raise ValueError(f"No hay laboratorio {number}: los laboratorios son {numbers}.") from None
    path = lab.student_file(find_labs_dir())
    if not path.is_file():
        raise FileNotFoundError(
            f"No encuentro {path}. Corré `python -m microservicios.labs reset {number}` para "
            "crearlo, o decí dónde está tu carpeta labs/ con la variable MICROSERVICIOS_LABS_DIR."
        )
    return load_module(path)
