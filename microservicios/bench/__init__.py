"""Benchmarks: `python -m microservicios.bench` starts a cluster and prints figures."""
