"""Laboratorio 5: la compensación de una saga.

Crear una orden son dos pasos en dos servicios distintos, sin una transacción que los
abarque: reservar el stock (items) y guardar la orden (orders). Si el segundo paso falla,
el primero hay que DESHACERLO a mano: eso es la compensación (liberar la reserva).

Recibís tres funciones async:
- reserve(): reserva el stock. Puede lanzar NoStockError (items dijo que no: no se reservó
  nada) o UnavailableError (items no contestó: ¡quizás SÍ se reservó!).
- store(): guarda la orden y la devuelve. Puede lanzar StoreError, o cualquier otra
  excepción (un error que nadie previó también es un fallo después de la reserva).
- release(): libera la reserva. Es idempotente (liberar dos veces, o liberar algo que
  nunca llegó, no hace daño). Puede lanzar UnavailableError.

Reglas: nunca guardes una orden sin reserva; si después de pedir la reserva algo falla,
liberala; y el error que ve quien llamó es el ORIGINAL (no el de la compensación).

Completá `place_order` y comprobá con:  python -m microservicios.labs check 5
"""

from collections.abc import Awaitable, Callable
from typing import Any

from microservicios.labs.saga_errors import NoStockError, StoreError, UnavailableError  # noqa: F401

Step = Callable[[], Awaitable[Any]]


async def place_order(*, reserve: Step, release: Step, store: Step) -> Any:
    # TODO: hoy reserva y guarda, pero no compensa nada si algo sale mal.
    await reserve()
    return await store()
