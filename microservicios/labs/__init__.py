"""Lab exercises and their checker: `python -m microservicios.labs`."""
