"""One service, alone, as a deployment runs it: `python -m microservicios.serve NOMBRE`."""
