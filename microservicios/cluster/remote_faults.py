"""Faults injected into a service in another process, through its `/internal/faults` route."""

import httpx

from microservicios.common.faults import FAULTS_PATH, Faults
from microservicios.common.headers import SERVICE_TOKEN_HEADER
from microservicios.serve.errors import ClusterError

TIMEOUT_S = 5.0


def send_faults(name: str, url: str, secret: str, faults: Faults | None) -> None:
    """PUT the faults (or DELETE them all, when `faults` is None) with the service token."""
    headers = {SERVICE_TOKEN_HEADER: secret}
    try:
        if faults is None:
            answer = httpx.delete(url + FAULTS_PATH, headers=headers, timeout=TIMEOUT_S)
        else:
            body = faults.model_dump()
            answer = httpx.put(url + FAULTS_PATH, json=body, headers=headers, timeout=TIMEOUT_S)
    except httpx.HTTPError:
        raise ClusterError(f"El servicio '{name}' no responde: ¿está apagado?") from None
    if answer.status_code != 200:
        raise ClusterError(f"El servicio '{name}' rechazó las fallas ({answer.status_code}).")
