"""Lab exercises and their checker: `python -m microservicios.labs`."""

from microservicios.labs.student import load

__all__ = ["load"]
